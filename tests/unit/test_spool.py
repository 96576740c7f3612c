"""The spool: order, size bound with lowest-level-first eviction, adoption of orphaned spools,
quarantine of unreadable ones, and the fall back to memory (and back to disk) when the disk fails."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections import deque
from pathlib import Path

import pytest

from logmonitor.handler.context import current_context
from logmonitor.handler.encoding import Captured, RecordEncoder
from logmonitor.handler.producer_config import producer_config
from logmonitor.handler.redaction import Redactor
from logmonitor.handler.sender import Sender, SenderConfig
from logmonitor.handler.spool import DiskSpool, Spool, SpooledRecord
from logmonitor.handler.spool_keeper import SpoolKeeper
from logmonitor.levels import LEVEL_RANK
from tests.unit.test_handler import FakeKafka, eventually

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


# --- damaged spools: quarantine, memory-only, retry (the SpoolKeeper) ---------------------------


def orphan(directory: Path, content: bytes) -> Path:
    """A spool file whose process is gone (its lock file unlocked), with ``content``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "111-deadbeef.lock").touch()
    path = directory / "111-deadbeef.db"
    path.write_bytes(content)
    return path


def announcements(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line]


@pytest.mark.parametrize("content", [b"", os.urandom(3000)], ids=["empty", "garbage"])
def test_an_unreadable_orphan_is_quarantined_not_deleted_and_the_spool_works(tmp_path: Path, content: bytes) -> None:
    damaged = orphan(tmp_path, content)
    spool = DiskSpool(tmp_path, max_bytes=1 << 20)
    [moved] = spool.quarantined
    assert moved.path.name.startswith("111-deadbeef.db.corrupt-") and moved.path.read_bytes() == content
    assert not damaged.exists() and not damaged.with_suffix(".lock").exists(), "not tried again"
    spool.append([record(1, "INFO")])
    assert spool.count == 1
    spool.close()
    assert DiskSpool(tmp_path, max_bytes=1 << 20).quarantined == [], "a quarantined file is left alone"


class _CommitWatch:
    """A SQLite connection that notes the spool's counts as each COMMIT is about to run."""

    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:", isolation_level=None)
        self.spool: Spool | None = None
        self.counts_at_commit: list[int] = []

    def execute(self, sql: str, *parameters: object) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.spool is not None:
            self.counts_at_commit.append(self.spool.count)
        return self.connection.execute(sql, *parameters)


def test_counts_change_only_once_a_transaction_is_committed() -> None:
    """Another thread reads ``count``: a killed process must not have shown rows it never committed."""
    watch = _CommitWatch()
    spool = Spool(watch, max_bytes=record(0, "INFO").size * 100)  # type: ignore[arg-type]
    watch.spool = spool
    spool.append([record(1, "INFO"), record(2, "INFO")])
    spool.remove([1])
    assert watch.counts_at_commit == [0, 2]
    assert spool.count == 1


def test_a_failed_append_changes_nothing(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=record(0, "INFO").size * 2)
    spool.append([record(1, "DEBUG"), record(2, "INFO")])
    unbindable = SpooledRecord(4, LEVEL_RANK["ERROR"], b"svc", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(sqlite3.Error):
        spool.append([record(3, "ERROR"), unbindable])  # record 3 evicts record 1, then the batch fails
    assert [r.order for r in spool.peek(10)] == [1, 2]
    assert (spool.count, spool.bytes, dict(spool.dropped)) == (2, 2 * record(0, "INFO").size, {})
    spool.close()


def test_a_spool_path_that_is_a_file_means_memory_only_until_it_is_fixed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "spool"
    path.write_text("not a directory")
    keeper = SpoolKeeper(path, max_bytes=1 << 20, retry_interval=3600)
    keeper.open()
    keeper.append([record(1, "ERROR"), record(2, "INFO")])
    assert keeper.state == f"memory-only: Not a directory: {path}"
    assert [r.order for r in keeper.peek(10)] == [1, 2] and keeper.count == 2
    keeper.retry_when_due()
    assert keeper.state.startswith("memory-only") and keeper.failures == 1, "not retried before the interval"
    [line] = announcements(capsys)
    assert "cannot be used (Not a directory" in line and "memory only" in line

    path.unlink()
    keeper.retry_interval = 0
    keeper._next_attempt = 0  # the interval has passed
    keeper.retry_when_due()
    assert keeper.state == "ok"
    [spool_file] = path.glob("*.db")
    assert [r.order for r in keeper.peek(10)] == [1, 2], "the records moved from memory to disk"
    assert "works again; 2 records moved there" in announcements(capsys)[0]
    keeper.close()
    assert spool_file.exists(), "undelivered records stay on disk"


@pytest.mark.parametrize("failure", [
    sqlite3.OperationalError("database or disk is full"),
    PermissionError(13, "Permission denied", "spool.db"),
    RuntimeError("a bug in spool code"),
], ids=["disk-full", "permission", "unexpected"])
def test_a_failing_write_moves_every_record_to_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str], failure: Exception) -> None:
    keeper = SpoolKeeper(tmp_path, max_bytes=1 << 20)
    keeper.open()
    keeper.append([record(1, "INFO")])
    [spool_file] = tmp_path.glob("*.db")

    def fail(self: DiskSpool, records: list[SpooledRecord]) -> None:
        raise failure

    monkeypatch.setattr(DiskSpool, "append", fail)
    keeper.append([record(2, "ERROR"), record(3, "INFO")])  # the records in hand
    assert keeper.state.startswith("memory-only: ") and keeper.failures == 1
    assert [r.order for r in keeper.peek(10)] == [1, 2, 3], "nothing lost, on disk before or in hand"
    assert not spool_file.exists(), "its records live in memory now"
    keeper.remove([1, 2])
    keeper.append([record(4, "INFO")])
    assert [r.order for r in keeper.peek(10)] == [3, 4]
    assert len(announcements(capsys)) == 1
    keeper.close()


def test_a_spool_file_that_becomes_unreadable_is_quarantined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    keeper = SpoolKeeper(tmp_path, max_bytes=1 << 20)
    keeper.open()
    keeper.append([record(1, "INFO")])
    [spool_file] = tmp_path.glob("*.db")

    def unreadable(self: DiskSpool, limit: int, after: int = -1) -> list[SpooledRecord]:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(DiskSpool, "peek", unreadable)
    assert keeper.peek(10) == []
    assert keeper.state == "memory-only: SQLite: database disk image is malformed"
    [moved] = keeper.quarantined
    assert moved.path.name.startswith(f"{spool_file.name}.corrupt-") and moved.path.exists()
    assert not spool_file.with_suffix(".lock").exists()
    lines = announcements(capsys)
    assert len(lines) == 2 and "moved to" in lines[0] and "cannot be used" in lines[1]
    keeper.close()


def test_a_failed_open_leaves_no_file_of_its_own_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: DiskSpool) -> None:
        assert list(tmp_path.glob("*.db")), "fails once its file exists"
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(DiskSpool, "_adopt_orphans", full)
    keeper = SpoolKeeper(tmp_path, max_bytes=1 << 20)
    keeper.open()
    assert keeper.state == "memory-only: SQLite: database or disk is full"
    assert list(tmp_path.iterdir()) == [], "each retry would leave another file on a full disk"


class _BuggySpool(SpoolKeeper):
    """A spool whose first append fails with an error nobody planned for."""

    raised = False

    def append(self, records: list[SpooledRecord]) -> None:
        if not self.raised:
            self.raised = True
            raise RuntimeError("a bug in spool code")
        super().append(records)


def test_the_sender_thread_survives_an_unexpected_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queue: deque[Captured] = deque()
    kafka = FakeKafka()
    kafka.up = False  # no broker: every record is spooled, none delivered
    config = SenderConfig(topic="logs", producer=producer_config("127.0.0.1:9", {}), memory_records=0)
    sender = Sender(config, queue, RecordEncoder("svc", "host-1", Redactor()), _BuggySpool(tmp_path, 1 << 20), kafka)
    sender.start()
    try:
        for batch in range(3):  # each record its own turn: the next is queued once the thread has dealt with it
            record = logging.makeLogRecord({"msg": f"batch {batch}", "levelno": logging.ERROR})
            queue.append(Captured(record, record.getMessage(), current_context()))
            eventually(lambda spooled=batch: sender.internal_errors == 1 and sender.spool.count == spooled,
                       f"batch {batch}: the first lost to the error, the others spooled")
        assert sender.is_alive() and sender.internal_errors == 1 and sender.spool.state == "ok"
    finally:
        sender.stop(0.01)  # no broker: the spooled records stay spooled
    [line] = [line for line in capsys.readouterr().err.splitlines() if "unexpected error" in line]
    assert "RuntimeError('a bug in spool code')" in line and "goes on" in line
