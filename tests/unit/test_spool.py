"""The disk spool: order, size bound with lowest-level-first eviction, adoption of orphaned spools."""

from __future__ import annotations

from pathlib import Path

from logmonitor.handler.spool import LEVEL_RANK, DiskSpool, SpooledRecord

VALUE = b"x" * 100


def record(order: int, level: str) -> SpooledRecord:
    return SpooledRecord(order, LEVEL_RANK[level], b"svc", VALUE)


def test_records_come_back_in_emit_order_and_removal_frees_space(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=1 << 20)
    spool.append([record(3, "INFO"), record(1, "ERROR"), record(2, "DEBUG")])
    assert [r.order for r in spool.peek(10)] == [1, 2, 3]
    assert [r.order for r in spool.peek(10, after=1)] == [2, 3]
    used = spool.bytes
    spool.remove([1, 2])
    assert spool.count == 1 and spool.bytes == used - 2 * record(1, "INFO").size
    spool.close()


def test_at_the_bound_the_lowest_levels_go_first(tmp_path: Path) -> None:
    size = record(0, "INFO").size
    spool = DiskSpool(tmp_path, max_bytes=size * 4)
    spool.append([record(1, "DEBUG"), record(2, "INFO"), record(3, "INFO"), record(4, "WARNING")])
    spool.append([record(5, "ERROR"), record(6, "CRITICAL")])
    assert [(r.order, r.rank) for r in spool.peek(10)] == [(3, 1), (4, 2), (5, 3), (6, 4)]
    spool.append([record(7, "DEBUG")])
    assert 7 not in [r.order for r in spool.peek(10)], "a record below everything spooled is dropped"
    assert dict(spool.dropped) == {"DEBUG": 2, "INFO": 1}
    spool.close()


def test_a_new_process_adopts_a_spool_whose_owner_is_gone(tmp_path: Path) -> None:
    first = DiskSpool(tmp_path, max_bytes=1 << 20)
    first.append([record(1, "ERROR"), record(2, "INFO")])
    alive = DiskSpool(tmp_path, max_bytes=1 << 20)
    assert alive.count == 0, "a spool whose process holds its lock is left alone"
    first.close()  # its owner is gone; the file stays because it is not empty
    adopter = DiskSpool(tmp_path, max_bytes=1 << 20)
    assert [r.order for r in adopter.peek(10)] == [1, 2]
    assert not first.path.exists()
    adopter.close()
    alive.close()
