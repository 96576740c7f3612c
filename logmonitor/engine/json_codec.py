"""The tables' codec: Faust's ``json`` (the same bytes), in allocations of their own size (``compact_json.py``).

Why: every table changelog key and value waits for the producer's delivery; orjson's results
hold at least 4 KiB each whatever their length, and a worker's RSS climbed over a soak (P6).

Verified against faust-streaming 0.15.3 (``faust/serializers/codecs.py``). It assumes:
``Codec.dumps`` encodes through each node's ``_dumps(obj)``, which the ``json`` codec implements
(orjson's when installed); ``codecs.register(name, codec)`` makes a codec usable by name as a
table's ``key_serializer``/``value_serializer``. ``tests/unit/engine/test_json_codec.py`` checks
both.
"""

from __future__ import annotations

from typing import Any

from faust.serializers import codecs

from logmonitor.compact_json import exact_size

__all__ = ["CODEC", "CompactJsonCodec"]

CODEC = "compact-json"


class CompactJsonCodec(codecs.json):
    """Faust's ``json`` codec (the same bytes), in allocations of their own size; for table changelogs."""

    def _dumps(self, s: Any) -> bytes:
        return exact_size(super()._dumps(s))


codecs.register(CODEC, CompactJsonCodec())
