"""The spool: records wait here, in emit order, while Kafka is away or slow.

``Spool`` is the ordered, size-bounded queue in one SQLite database; at its size bound it
evicts the oldest records of the lowest level first. ``DiskSpool`` keeps it in a file per
handler process (``<dir>/<pid>-<random>.db``), locked with ``flock`` while its process lives.
A new process adopts the files whose owner is gone, so records spooled before a crash or a
restart are delivered too; a file it cannot read is renamed ``<name>.corrupt-<UTC time>``
(never deleted) and left for an operator.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from logmonitor.levels import LEVELS

__all__ = ["DiskSpool", "Quarantined", "Spool", "SpooledRecord"]

_ROW_OVERHEAD = 64
# What SQLite says about a file that is not a spool (garbage, empty, truncated, another schema);
# anything else (disk full, I/O error, ...) is a problem of ours, not of the file.
_UNREADABLE = frozenset({"SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_ERROR"})


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


@dataclass(slots=True)
class _Tally:
    """The counts of a spool as one transaction changes them."""

    bytes: int
    count: int


@dataclass(slots=True, frozen=True)
class Quarantined:
    """A spool file that could not be read, under the name it was moved to."""

    path: Path
    reason: str


class Spool:
    """An ordered, size-bounded queue of records in one SQLite database.

    Only one thread may use it at a time (the handler's sender thread). ``count``, ``bytes``
    and ``dropped`` change only with a committed transaction.
    """

    def __init__(self, db: sqlite3.Connection, max_bytes: int, dropped: Counter[str] | None = None) -> None:
        self._db = db
        self.max_bytes = max_bytes
        self.dropped: Counter[str] = Counter() if dropped is None else dropped
        self.bytes = 0
        self.count = 0
        db.execute(
            "CREATE TABLE IF NOT EXISTS spool (ord INTEGER PRIMARY KEY, rank INTEGER NOT NULL,"
            " key BLOB NOT NULL, value BLOB NOT NULL)"
        )
        self._recount()

    @classmethod
    def in_memory(cls, max_bytes: int, dropped: Counter[str] | None = None) -> Spool:
        """A spool that lives in this process's memory only."""
        return cls(sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False), max_bytes, dropped)

    def _recount(self) -> None:
        count, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) FROM spool"
        ).fetchone()
        self.count = int(count)
        self.bytes = int(size) + self.count * _ROW_OVERHEAD

    @contextmanager
    def _transaction(self) -> Iterator[_Tally]:
        """One transaction, with a tally of the counts it changes, published once it is committed.

        Another thread reads ``count`` (``KafkaLogHandler.spooled``): it must never see a row that a
        crash before the commit would lose. On failure the transaction is rolled back and the counts
        re-read, then the error raised.
        """
        tally = _Tally(self.bytes, self.count)
        self._db.execute("BEGIN")
        try:
            yield tally
            self._db.execute("COMMIT")
            self.bytes, self.count = tally.bytes, tally.count
        except BaseException:
            with suppress(sqlite3.Error):  # SQLite may have rolled back already (disk full, I/O error)
                self._db.execute("ROLLBACK")
            with suppress(sqlite3.Error):
                self._recount()
            raise

    def append(self, records: list[SpooledRecord]) -> None:
        """Store ``records``; at the size bound, evict (or drop) the lowest levels first."""
        if not records:
            return
        dropped: Counter[str] = Counter()
        with self._transaction() as tally:
            for record in records:
                if tally.bytes + record.size > self.max_bytes and not self._evict_below(record, tally, dropped):
                    dropped[LEVELS[record.rank]] += 1
                    continue
                inserted = self._db.execute("INSERT OR IGNORE INTO spool VALUES (?, ?, ?, ?)",
                                            (record.order, record.rank, record.key, record.value)).rowcount
                if inserted:  # a record already here (same order) is the same record
                    tally.bytes += record.size
                    tally.count += 1
        self.dropped.update(dropped)

    def _evict_below(self, incoming: SpooledRecord, tally: _Tally, dropped: Counter[str]) -> bool:
        """Evict oldest rows of a lower level than ``incoming`` until it fits; False if it cannot."""
        while tally.bytes + incoming.size > self.max_bytes:
            row = self._db.execute(
                "SELECT ord, rank, LENGTH(key) + LENGTH(value) FROM spool WHERE rank < ? "
                "ORDER BY rank, ord LIMIT 1", (incoming.rank,),
            ).fetchone()
            if row is None:
                return False
            self._db.execute("DELETE FROM spool WHERE ord = ?", (row[0],))
            tally.bytes -= int(row[2]) + _ROW_OVERHEAD
            tally.count -= 1
            dropped[LEVELS[int(row[1])]] += 1
        return True

    def peek(self, limit: int, after: int = -1) -> list[SpooledRecord]:
        """Up to ``limit`` records in emit order, starting after order ``after`` (``limit`` -1: all)."""
        rows = self._db.execute(
            "SELECT ord, rank, key, value FROM spool WHERE ord > ? ORDER BY ord LIMIT ?", (after, limit)
        ).fetchall()
        return [SpooledRecord(int(o), int(r), bytes(k), bytes(v)) for o, r, k, v in rows]

    def remove(self, orders: list[int]) -> None:
        """Delete delivered records."""
        if not orders:
            return
        with self._transaction() as tally:
            for order in orders:
                row = self._db.execute("DELETE FROM spool WHERE ord = ? RETURNING LENGTH(key) + LENGTH(value)",
                                       (order,)).fetchone()
                if row is not None:
                    tally.bytes -= int(row[0]) + _ROW_OVERHEAD
                    tally.count -= 1

    def close(self) -> None:
        """Close the database."""
        self._db.close()


class DiskSpool(Spool):
    """A crash-safe ``Spool`` in a file of its own under ``directory``.

    Raises ``OSError`` or ``sqlite3.Error`` when the directory or the file cannot be used;
    then it leaves no file of its own behind (unless it already holds adopted records).
    """

    def __init__(self, directory: Path, max_bytes: int, dropped: Counter[str] | None = None) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except FileExistsError as error:  # exists, but is not a directory: say that
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory)) from error
        self.directory = directory
        self.path = directory / f"{os.getpid()}-{os.urandom(4).hex()}.db"
        self.quarantined: list[Quarantined] = []
        self._adopted = False
        self._lock_fd = os.open(self.path.with_suffix(".lock"), os.O_CREAT | os.O_RDWR, 0o600)
        db: sqlite3.Connection | None = None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            super().__init__(db, max_bytes, dropped)
            self._adopt_orphans()
        except BaseException:
            if db is not None:
                db.close()
            self._let_go(delete=not self._adopted)  # adopted records stay, for the next attempt
            raise

    def _adopt_orphans(self) -> None:
        """Move the rows of spool files whose process is gone into ours; quarantine unreadable ones."""
        for lock_path in sorted(self.directory.glob("*.lock")):
            if lock_path != self.path.with_suffix(".lock"):
                self._adopt(lock_path)
        self._recount()

    def _adopt(self, lock_path: Path) -> None:
        fd = os.open(lock_path, os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # its process is alive and delivering it
            orphan = lock_path.with_suffix(".db")
            if orphan.exists():
                unreadable = self._copy_rows_of(orphan)
                if unreadable is None:
                    _remove_database(orphan)
                else:
                    self.quarantined.append(Quarantined(_quarantine(orphan), unreadable))
            lock_path.unlink(missing_ok=True)
        finally:
            os.close(fd)

    def _copy_rows_of(self, orphan: Path) -> str | None:
        """Copy ``orphan``'s rows into ours; the reason when it is unreadable, else None.

        Raises when our own file fails (then the orphan is left as it is).
        """
        try:
            self._db.execute("ATTACH DATABASE ? AS orphan", (str(orphan),))
        except sqlite3.DatabaseError as error:
            if error.sqlite_errorname not in _UNREADABLE:
                raise
            return str(error)
        try:
            with self._transaction():
                self._db.execute("INSERT OR IGNORE INTO spool SELECT ord, rank, key, value FROM orphan.spool")
        except sqlite3.DatabaseError as error:
            if error.sqlite_errorname not in _UNREADABLE:
                raise
            return str(error)
        finally:
            self._db.execute("DETACH DATABASE orphan")
        self._adopted = True
        return None

    def release_lock(self) -> None:
        """Close this process's copy of the lock (after fork, in the child)."""
        os.close(self._lock_fd)

    def close(self) -> None:
        """Close the file (deleting it when empty) and release the lock."""
        self._release(delete=self.count == 0)

    def discard(self) -> None:
        """Close and delete the file, whatever it holds (its records were moved elsewhere)."""
        self._release(delete=True)

    def quarantine(self, reason: str) -> Quarantined:
        """Close the file and move it aside as unreadable; the lock is released."""
        with suppress(sqlite3.Error):
            super().close()
        try:
            moved = Quarantined(_quarantine(self.path), reason)
            self.path.with_suffix(".lock").unlink(missing_ok=True)  # kept when the rename failed: adopt it later
            return moved
        finally:
            os.close(self._lock_fd)

    def _release(self, *, delete: bool) -> None:
        with suppress(sqlite3.Error):
            super().close()
        self._let_go(delete=delete)

    def _let_go(self, *, delete: bool) -> None:
        """Release the lock, deleting the (closed) file first when ``delete``."""
        if delete:
            with suppress(OSError):  # best effort: a file left behind is adopted by the next process
                _remove_database(self.path)
                self.path.with_suffix(".lock").unlink(missing_ok=True)
        os.close(self._lock_fd)


def _companions(database: Path) -> tuple[Path, Path, Path]:
    """The database file and SQLite's write-ahead log and shared-memory index beside it."""
    return database, Path(f"{database}-wal"), Path(f"{database}-shm")


def _remove_database(database: Path) -> None:
    for path in _companions(database):
        path.unlink(missing_ok=True)


def _quarantine(database: Path) -> Path:
    """Rename ``database`` (and its companions) to ``<name>.corrupt-<UTC time>``; the new path."""
    suffix = f".corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    for path in reversed(_companions(database)):  # the database last: its new name marks the move as done
        if path.exists():
            path.rename(path.with_name(path.name + suffix))
    return database.with_name(database.name + suffix)
