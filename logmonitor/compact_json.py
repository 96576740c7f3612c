"""JSON bytes that occupy their own length, for bytes that wait for the producer.

orjson (3.12 and later) hands back bytes whose allocation is at least 4 KiB, rounded up to a
power of two, whatever their length (``sys.getsizeof`` hides it; ijl/orjson#483). A worker
holds thousands of such values at a time: every table changelog message (key and value) and
every forwarded record waits for the producer's delivery, so a 60-byte count cell took 8 KiB
and the worker's RSS climbed over a soak (P6, ``bench/soak.py``). Copying the result costs
about 0.1 µs and frees the oversized buffer at once. The table codec is the engine seam's
(``engine/json_codec.py``).
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["dumps", "exact_size"]


def exact_size(data: bytes) -> bytes:
    """``data`` in an allocation of its own size."""
    return b"".join((data, b""))  # a copy of exactly len(data) bytes (a one-item join returns data itself)


def dumps(value: Any) -> bytes:
    """``orjson.dumps(value)``, in an allocation of its own size."""
    return exact_size(orjson.dumps(value))

