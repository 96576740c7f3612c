"""JSON bytes in allocations of their own size (orjson's own results take at least 4 KiB)."""

import tracemalloc
from collections.abc import Callable
from typing import Any

import orjson
from faust.serializers import codecs

from logmonitor.compact_json import dumps
from logmonitor.engine.json_codec import CODEC

CELL = {"INFO": 1234, "ERROR": 5, "_wm": {"3": 456789}}


def _bytes_held_per_result(make: Callable[[int], Any], count: int = 2_000) -> float:
    tracemalloc.start()
    try:
        held = [make(i) for i in range(count)]
        size, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(held) == count
    return size / count


def test_dumps_gives_orjsons_bytes() -> None:
    assert dumps(CELL) == orjson.dumps(CELL)
    assert orjson.loads(dumps(CELL)) == CELL


def test_the_table_codec_gives_faust_json_bytes_both_ways() -> None:
    compact, faust_json = codecs.get_codec(CODEC), codecs.get_codec("json")
    for value in (CELL, ["svc", [1700000040.0, 1700000099.9]], "text", 12):
        assert compact.dumps(value) == faust_json.dumps(value)
        assert compact.loads(compact.dumps(value)) == faust_json.loads(faust_json.dumps(value))


def test_results_hold_about_their_own_length() -> None:
    held = _bytes_held_per_result(lambda i: dumps({**CELL, "n": i}))
    held_by_table_codec = _bytes_held_per_result(lambda i: codecs.get_codec(CODEC).dumps({**CELL, "n": i}))
    assert held < 256, held  # the value is ~60 bytes; orjson's own result holds >= 4 KiB
    assert held_by_table_codec < 256, held_by_table_codec
