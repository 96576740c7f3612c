"""Idempotent cells: a record re-delivered after a crash is recognised per source partition."""

from logmonitor.pipeline.tables.cells import home_of, mark_applied, source_partitions, watermark


def test_a_fresh_cell_has_applied_nothing() -> None:
    assert watermark({}, 0) == -1
    assert watermark(None, 3) == -1


def test_the_watermark_is_the_last_offset_applied_per_partition() -> None:
    cell = mark_applied({"n": 1}, partition=2, offset=10)
    assert watermark(cell, 2) == 10
    assert watermark(cell, 1) == -1
    mark_applied(cell, 1, 5)
    assert source_partitions(cell) == {1, 2}


def test_a_cell_belongs_to_its_one_partition_or_once_forwarded_records_are_in_it_to_their_home() -> None:
    assert home_of({}) is None
    cell = mark_applied({"n": 1}, partition=5, offset=10, home=5)
    assert home_of(cell) == 5 and "_home" not in cell, "a home partition's own records: nothing to add"
    mark_applied(cell, partition=1, offset=3, home=5)
    assert home_of(cell) == 5 and source_partitions(cell) == {1, 5}, "not the lowest source partition"
    assert home_of(mark_applied({}, partition=2, offset=0)) == 2
