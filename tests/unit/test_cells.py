"""Idempotent cells: a record re-delivered after a crash is recognised per source partition."""

from logmonitor.pipeline.tables.cells import mark_applied, source_partitions, watermark


def test_a_fresh_cell_has_applied_nothing() -> None:
    assert watermark({}, 0) == -1
    assert watermark(None, 3) == -1


def test_the_watermark_is_the_last_offset_applied_per_partition() -> None:
    cell = mark_applied({"n": 1}, partition=2, offset=10)
    assert watermark(cell, 2) == 10
    assert watermark(cell, 1) == -1
    mark_applied(cell, 1, 5)
    assert source_partitions(cell) == {1, 2}
