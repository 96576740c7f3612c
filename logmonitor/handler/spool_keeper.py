"""Keeps the handler's spool usable whatever the disk does: on disk while it works, else in memory.

A damaged spool must never stop delivery to a live Kafka. When the spool directory or file
cannot be used (a path that is a file, a full disk, a permission or I/O error; when opening
or in the middle of a write) the records in hand and those on disk move to a spool in
memory with the same bound, the handler says so once on stderr, and the disk is tried again
every ``retry_interval`` seconds; once it works, the records in memory move back to disk.
Unreadable spool files are quarantined by ``DiskSpool``; here they are announced.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

from logmonitor.handler.spool import DiskSpool, Quarantined, Spool, SpooledRecord

__all__ = ["MEMORY_ONLY", "SpoolKeeper"]

MEMORY_ONLY = "memory-only"
_Result = TypeVar("_Result")


class SpoolKeeper:
    """The sender's spool: a ``DiskSpool`` while the disk works, a ``Spool`` in memory while it does not.

    ``state`` is ``"opening"``, ``"ok"``, ``"memory-only: <reason>"`` or ``"closed"``;
    ``failures`` counts failed uses of the disk, ``quarantined`` the files moved aside.
    Only the sender thread calls its methods.
    """

    def __init__(self, directory: Path, max_bytes: int, retry_interval: float = 60.0) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.retry_interval = retry_interval
        self.dropped: Counter[str] = Counter()
        self.state = "opening"
        self.failures = 0
        self.quarantined: list[Quarantined] = []
        self._disk: DiskSpool | None = None
        self._memory = Spool.in_memory(max_bytes, self.dropped)
        self._next_attempt = 0.0

    @property
    def count(self) -> int:
        """Records waiting in the spool right now."""
        return self._store.count

    @property
    def _store(self) -> Spool:
        return self._disk if self._disk is not None else self._memory

    def open(self) -> None:
        """Open the disk spool, or fall back to memory."""
        self._attempt_disk()

    def retry_when_due(self) -> None:
        """In memory only, try the disk again once ``retry_interval`` has passed since the last try."""
        if self._disk is None and time.monotonic() >= self._next_attempt:
            self._attempt_disk()

    def append(self, records: list[SpooledRecord]) -> None:
        """Store ``records`` (see ``Spool.append``)."""
        self._use(lambda store: store.append(records))

    def peek(self, limit: int, after: int = -1) -> list[SpooledRecord]:
        """Up to ``limit`` records in emit order after order ``after``."""
        return self._use(lambda store: store.peek(limit, after))

    def remove(self, orders: list[int]) -> None:
        """Delete delivered records."""
        self._use(lambda store: store.remove(orders))

    def release_lock(self) -> None:
        """In a forked child: let go of the parent's lock on its spool file."""
        if self._disk is not None:
            self._disk.release_lock()

    def close(self) -> None:
        """Close the spool; records held only in memory get one last try at the disk."""
        if self._disk is None and self._memory.count:
            self._attempt_disk()
        if self._disk is not None:
            self._disk.close()
        if self._disk is None and self._memory.count:
            print(f"logmonitor handler: {self._memory.count} undelivered records were only in memory and are "
                  f"lost with this process ({self.state})", file=sys.stderr)
        self._memory.close()
        self.state = "closed"

    def _use(self, operation: Callable[[Spool], _Result]) -> _Result:
        """Run ``operation`` on the disk spool; if the disk fails, on the memory spool instead."""
        if self._disk is not None:
            try:
                return operation(self._disk)
            except Exception as error:  # whatever the disk or SQLite does, records keep moving
                self._fall_back(self._disk, error)
        return operation(self._memory)

    def _attempt_disk(self) -> None:
        """Open a disk spool and move the records in memory into it; on failure stay in memory."""
        self._next_attempt = time.monotonic() + self.retry_interval
        try:
            disk = DiskSpool(self.directory, self.max_bytes, self.dropped)
        except Exception as error:
            self._memory_only(error)
            return
        self._announce_quarantined(disk.quarantined)
        try:
            disk.append(self._memory.peek(-1))
        except Exception as error:
            self._fall_back(disk, error)
            return
        moved = self._memory.count
        self._memory.close()
        self._memory = Spool.in_memory(self.max_bytes, self.dropped)
        self._disk = disk
        if self.state.startswith(MEMORY_ONLY):
            print(f"logmonitor handler: the spool at {self.directory} works again; {moved} records moved "
                  "there from memory", file=sys.stderr)
        self.state = "ok"

    def _fall_back(self, disk: DiskSpool, error: Exception) -> None:
        """The disk failed: move its records to memory (quarantine it if unreadable) and go memory-only."""
        self._disk = None
        self._next_attempt = time.monotonic() + self.retry_interval
        try:
            records = disk.peek(-1)
        except Exception as unreadable:
            # if even the rename fails, the file stays unlocked: the next process adopts or quarantines it
            with suppress(OSError):
                self._announce_quarantined([disk.quarantine(_describe(unreadable))])
        else:
            self._memory.append(records)
            disk.discard()  # its records live in memory now; deleting also frees a full disk
        self._memory_only(error)

    def _memory_only(self, error: Exception) -> None:
        self.failures += 1
        reason = _describe(error)
        if not self.state.startswith(MEMORY_ONLY):
            print(f"logmonitor handler: the spool at {self.directory} cannot be used ({reason}); records wait in "
                  f"memory only (up to {self.max_bytes} bytes), the disk is tried again every "
                  f"{self.retry_interval:g} s", file=sys.stderr)
        self.state = f"{MEMORY_ONLY}: {reason}"

    def _announce_quarantined(self, moved: list[Quarantined]) -> None:
        for quarantined in moved:
            print(f"logmonitor handler: an unreadable spool file was moved to {quarantined.path} "
                  f"({quarantined.reason}); its records are not delivered", file=sys.stderr)
        self.quarantined.extend(moved)


def _describe(error: Exception) -> str:
    """A one-line reason for ``error``, without a traceback."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    if isinstance(error, sqlite3.Error):
        return f"SQLite: {error}"
    return repr(error)
