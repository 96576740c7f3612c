"""JSON bytes that occupy their own length, for bytes that wait for the producer.

orjson (3.12 and later) hands back bytes whose allocation is at least 4 KiB, rounded up to a
power of two, whatever their length (``sys.getsizeof`` hides it; ijl/orjson#483). A worker
holds thousands of such values at a time: every table changelog message (key and value) and
every forwarded record waits for the producer's delivery, so a 60-byte count cell took 8 KiB
and the worker's RSS climbed over a soak (P6, ``bench/soak.py``). Copying the result costs
about 0.1 µs and frees the oversized buffer at once.
"""

from __future__ import annotations

from typing import Any

import orjson
from faust.serializers import codecs

__all__ = ["CODEC", "CompactJsonCodec", "dumps"]

CODEC = "compact-json"


def _exact(data: bytes) -> bytes:
    return b"".join((data, b""))  # a copy of exactly len(data) bytes (a one-item join returns data itself)


def dumps(value: Any) -> bytes:
    """``orjson.dumps(value)``, in an allocation of its own size."""
    return _exact(orjson.dumps(value))


class CompactJsonCodec(codecs.json):
    """Faust's ``json`` codec (the same bytes), in allocations of their own size; for table changelogs."""

    def _dumps(self, s: Any) -> bytes:
        return _exact(super()._dumps(s))


codecs.register(CODEC, CompactJsonCodec())
