"""Idempotent cells: a record re-delivered after a crash is recognised per source partition."""

from logmonitor.tables.cells import applied, mark_applied, source_partitions


def test_a_fresh_cell_has_applied_nothing() -> None:
    assert not applied({}, 0, 0)
    assert not applied(None, 3, 10)


def test_offsets_up_to_the_watermark_are_applied_per_partition() -> None:
    cell = mark_applied({"n": 1}, partition=2, offset=10)
    assert applied(cell, 2, 10) and applied(cell, 2, 3)
    assert not applied(cell, 2, 11)
    assert not applied(cell, 1, 5)
    mark_applied(cell, 1, 5)
    assert source_partitions(cell) == {1, 2}
