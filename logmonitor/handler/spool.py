"""The disk spool: records wait here, in emit order, while Kafka is away or slow.

One SQLite file per handler process (``<dir>/<pid>-<random>.db``), locked with ``flock``
while its process lives. A new process adopts the files whose owner is gone, so records
spooled before a crash or a restart are delivered too. When the spool reaches its size
bound it evicts the oldest records of the lowest level first.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LEVEL_RANK", "DiskSpool", "SpooledRecord"]

LEVEL_RANK = {"DEBUG": 0, "INFO": 1, "WARNING": 2, "ERROR": 3, "CRITICAL": 4}
_ROW_OVERHEAD = 64


@dataclass(slots=True, frozen=True)
class SpooledRecord:
    """One record: its emit order, level rank, Kafka key and value."""

    order: int
    rank: int
    key: bytes
    value: bytes

    @property
    def size(self) -> int:
        """Bytes this record counts against the spool bound."""
        return len(self.key) + len(self.value) + _ROW_OVERHEAD


class DiskSpool:
    """An ordered, size-bounded, crash-safe queue of records on local disk.

    Only the thread that created it may use it (the handler's sender thread).
    """

    def __init__(self, directory: Path, max_bytes: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.max_bytes = max_bytes
        self.dropped: Counter[str] = Counter()
        self.path = directory / f"{os.getpid()}-{os.urandom(4).hex()}.db"
        self._lock_fd = os.open(self.path.with_suffix(".lock"), os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._db = self._open(self.path)
        self.bytes = 0
        self.count = 0
        self._adopt_orphans()

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS spool (ord INTEGER PRIMARY KEY, rank INTEGER NOT NULL,"
            " key BLOB NOT NULL, value BLOB NOT NULL)"
        )
        return db

    def _adopt_orphans(self) -> None:
        """Move the rows of spool files whose process is gone into ours, then delete them."""
        for lock_path in sorted(self.directory.glob("*.lock")):
            if lock_path == self.path.with_suffix(".lock"):
                continue
            fd = os.open(lock_path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # its process is alive and delivering it
            try:
                orphan = lock_path.with_suffix(".db")
                if orphan.exists():
                    self._db.execute("ATTACH DATABASE ? AS orphan", (str(orphan),))
                    self._db.execute("BEGIN")
                    self._db.execute("INSERT OR IGNORE INTO spool SELECT ord, rank, key, value FROM orphan.spool")
                    self._db.execute("COMMIT")
                    self._db.execute("DETACH DATABASE orphan")
                for leftover in (orphan, Path(f"{orphan}-wal"), Path(f"{orphan}-shm"), lock_path):
                    leftover.unlink(missing_ok=True)
            finally:
                os.close(fd)
        count, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) FROM spool"
        ).fetchone()
        self.count = int(count)
        self.bytes = int(size) + self.count * _ROW_OVERHEAD

    def append(self, records: list[SpooledRecord]) -> None:
        """Store ``records``; at the size bound, evict (or drop) the lowest levels first."""
        if not records:
            return
        self._db.execute("BEGIN")
        for record in records:
            if self.bytes + record.size > self.max_bytes and not self._evict_below(record):
                self.dropped[_rank_name(record.rank)] += 1
                continue
            self._db.execute("INSERT OR REPLACE INTO spool VALUES (?, ?, ?, ?)",
                             (record.order, record.rank, record.key, record.value))
            self.bytes += record.size
            self.count += 1
        self._db.execute("COMMIT")

    def _evict_below(self, incoming: SpooledRecord) -> bool:
        """Evict oldest rows of a lower level than ``incoming`` until it fits; False if it cannot."""
        while self.bytes + incoming.size > self.max_bytes:
            row = self._db.execute(
                "SELECT ord, rank, LENGTH(key) + LENGTH(value) FROM spool WHERE rank < ? "
                "ORDER BY rank, ord LIMIT 1", (incoming.rank,),
            ).fetchone()
            if row is None:
                return False
            self._db.execute("DELETE FROM spool WHERE ord = ?", (row[0],))
            self.bytes -= int(row[2]) + _ROW_OVERHEAD
            self.count -= 1
            self.dropped[_rank_name(int(row[1]))] += 1
        return True

    def peek(self, limit: int, after: int = -1) -> list[SpooledRecord]:
        """Up to ``limit`` records in emit order, starting after order ``after``."""
        rows = self._db.execute(
            "SELECT ord, rank, key, value FROM spool WHERE ord > ? ORDER BY ord LIMIT ?", (after, limit)
        ).fetchall()
        return [SpooledRecord(int(o), int(r), bytes(k), bytes(v)) for o, r, k, v in rows]

    def remove(self, orders: list[int]) -> None:
        """Delete delivered records."""
        if not orders:
            return
        self._db.execute("BEGIN")
        for order in orders:
            row = self._db.execute("DELETE FROM spool WHERE ord = ? RETURNING LENGTH(key) + LENGTH(value)",
                                   (order,)).fetchone()
            if row is not None:
                self.bytes -= int(row[0]) + _ROW_OVERHEAD
                self.count -= 1
        self._db.execute("COMMIT")

    def release_lock(self) -> None:
        """Close this process's copy of the lock (after fork, in the child)."""
        os.close(self._lock_fd)

    def close(self) -> None:
        """Close the file (deleting it when empty) and release the lock."""
        self._db.close()
        if self.count == 0:
            for leftover in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                leftover.unlink(missing_ok=True)
            self.path.with_suffix(".lock").unlink(missing_ok=True)
        os.close(self._lock_fd)


def _rank_name(rank: int) -> str:
    return next(name for name, value in LEVEL_RANK.items() if value == rank)
