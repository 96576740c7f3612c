"""The ``Changes`` overlay: a batch reads through to the tables, writes each changed cell once, never twice a record.

Each cell remembers, per source partition, the last offset it applied: a batch replayed after a
crash (Kafka delivers at least once) is recognised record by record. The caps' decisions are
tested in test_group_cap.py and test_service_registry.py.
"""

from __future__ import annotations

from logmonitor.pipeline.aggregation import Changes
from logmonitor.pipeline.repartition import position
from logmonitor.pipeline.tables.cells import home_of, watermark
from logmonitor.pipeline.tables.error_groups import group_key
from logmonitor.pipeline.tables.service_registry import bucket_name
from logmonitor.pipeline.tables.service_state import profile_key, registry_key
from tests.unit.dict_tables import MINUTE, WINDOW_TABLE, DictTables, apply_batch, record

Batch = list[tuple[int, str, str]]  # (offset, service, level)


def route(tables: DictTables, partition: int, batch: Batch, invalid: tuple[int, ...] = ()) -> Changes:
    """Apply one batch of ``partition`` with generous caps, write it, and return the overlay."""
    return apply_batch(tables.changes(partition, service_cap=100, group_cap=100), batch, invalid)


def totals(tables: DictTables, service: str) -> dict[str, int]:
    counted: dict[str, int] = tables.state[profile_key(service)]["totals"]
    return counted


def window(tables: DictTables, service: str) -> dict[str, int]:
    return {level: n for level, n in tables.windows[service, MINUTE].items() if not level.startswith("_")}


BATCH: Batch = [(0, "pay", "INFO"), (1, "pay", "ERROR"), (2, "shop", "INFO"), (3, "pay", "ERROR"),
                (4, "shop", "WARNING"), (5, "pay", "INFO")]


def test_a_batch_counts_every_record_and_writes_each_changed_cell_once(tables: DictTables) -> None:
    route(tables, 0, BATCH, invalid=(6, 7))
    assert window(tables, "pay") == {"INFO": 2, "ERROR": 2} and window(tables, "shop") == {"INFO": 1, "WARNING": 1}
    assert totals(tables, "pay") == {"INFO": 2, "ERROR": 2} and totals(tables, "shop") == {"INFO": 1, "WARNING": 1}
    assert tables.groups[group_key("pay", "fp-pay")]["count"] == 2 and tables.invalid["0"]["n"] == 2
    assert tables.writes[WINDOW_TABLE] == 2, "one write per window cell, not one per record"
    assert tables.writes["error_groups"] == 1 and tables.writes["invalid_counts"] == 1
    assert watermark(tables.windows["pay", MINUTE], 0) == 5 and watermark(tables.invalid["0"], 0) == 7


def test_a_replayed_batch_counts_nothing_twice_and_writes_nothing(tables: DictTables) -> None:
    route(tables, 0, BATCH, invalid=(6,))
    before, tables.writes = tables.snapshot(), tables.writes.copy()
    writes = sum(tables.writes.values())
    route(tables, 0, BATCH, invalid=(6,))
    assert tables.snapshot() == before
    assert sum(tables.writes.values()) == writes, "a batch that changes nothing writes nothing"


def test_a_batch_overlapping_the_applied_offsets_counts_only_the_new_records(tables: DictTables) -> None:
    route(tables, 0, [(offset, "pay", "INFO") for offset in range(10)], invalid=(10, 11))
    route(tables, 0, [(offset, "pay", "INFO") for offset in range(5, 15)], invalid=(11, 15))
    assert window(tables, "pay") == {"INFO": 15} and totals(tables, "pay") == {"INFO": 15}
    assert tables.invalid["0"]["n"] == 3


def test_watermarks_are_per_source_partition(tables: DictTables) -> None:
    route(tables, 0, [(100, "pay", "WARNING"), (101, "pay", "INFO")])
    route(tables, 1, [(0, "pay", "WARNING"), (1, "pay", "INFO")])  # lower offsets, another partition: new records
    assert window(tables, "pay") == {"WARNING": 2, "INFO": 2} and totals(tables, "pay") == {"WARNING": 2, "INFO": 2}
    cell = tables.windows["pay", MINUTE]
    assert (watermark(cell, 0), watermark(cell, 1)) == (101, 1)
    route(tables, 1, [(1, "pay", "INFO")])
    route(tables, 0, [(101, "pay", "INFO")])
    assert window(tables, "pay") == {"WARNING": 2, "INFO": 2}, "each partition's replay is recognised"


def test_the_stored_cells_are_not_changed_in_place(tables: DictTables) -> None:
    route(tables, 0, BATCH[:2])
    stored, before = tables.windows["pay", MINUTE], tables.snapshot()
    changes = tables.changes(0, service_cap=100, group_cap=100)
    changes.apply_record(record(9, "pay", "INFO"), 9, 100)
    assert tables.snapshot() == before, "until write(), the batch's changes stay in the overlay"
    changes.write()
    assert window(tables, "pay") == {"INFO": 2, "ERROR": 1}
    assert stored is not tables.windows["pay", MINUTE] and stored.get("INFO") == 1, "a new value, the old untouched"


def test_records_forwarded_from_other_partitions_are_counted_at_home_each_once_by_position(
        tables: DictTables) -> None:
    home = 2
    route(tables, home, [(10, "pay", "INFO")], invalid=(11,))  # the home partition's own records, by offset

    def forwarded(source: int, batch: Batch, invalid: tuple[int, ...] = ()) -> None:
        apply_batch(tables.changes(source, service_cap=100, group_cap=100, home=home), batch, invalid)

    forwarded(0, [(position(5, None), "pay", "ERROR"), (position(7, 0), "pay", "INFO")], invalid=(position(7, 1),))
    forwarded(1, [(position(5, None), "pay", "WARNING")])  # the same offset in another source partition: new
    forwarded(0, [(position(5, None), "pay", "ERROR"), (position(7, 0), "pay", "INFO")])  # written twice: skipped
    forwarded(0, [(position(7, 2), "pay", "INFO")])  # the same batch's next record, forwarded after a split: new
    assert totals(tables, "pay") == {"INFO": 3, "ERROR": 1, "WARNING": 1} and window(tables, "pay") == totals(
        tables, "pay")
    assert tables.groups[group_key("pay", "fp-pay")]["count"] == 1
    assert tables.invalid == {str(home): tables.invalid[str(home)]} and tables.invalid[str(home)]["n"] == 2, (
        "the home partition's dead-letter count")
    registry = tables.state[registry_key(home)]
    assert registry["services"] == {"pay": 10}, "admitted from the home partition, by its offset"
    assert [watermark(registry, partition) for partition in (0, 1, 2)] == [position(7, 2), position(5, None), 10]
    assert registry_key(0) not in tables.state and registry_key(1) not in tables.state
    cells = [tables.windows["pay", MINUTE], tables.state[profile_key("pay")], tables.groups[group_key("pay", "fp-pay")],
             registry, tables.invalid[str(home)]]
    assert [home_of(cell) for cell in cells] == [home] * 5, "each belongs to the home partition, not the lowest source"



def test_the_home_partitions_service_cap_decides_for_forwarded_records_the_same_when_replayed(
        tables: DictTables) -> None:
    home = 2

    def forwarded(source: int, batch: Batch) -> None:
        apply_batch(tables.changes(source, service_cap=2, group_cap=100, home=home), batch)

    apply_batch(tables.changes(home, service_cap=2, group_cap=100), [(10, "pay", "INFO")])
    forwarded(0, [(position(5, None), "shop", "INFO"), (position(6, None), "cart", "INFO")])
    forwarded(0, [(position(5, None), "shop", "INFO"), (position(6, None), "cart", "INFO"),
                  (position(7, None), "cart", "WARNING")])  # written again, and one more
    assert tables.state[registry_key(home)]["services"] == {"pay": 10, "shop": [0, position(5, None)]}
    assert totals(tables, "shop") == {"INFO": 1}
    assert totals(tables, bucket_name(home)) == {"INFO": 1, "WARNING": 1}, "beyond the cap: the home's bucket"
