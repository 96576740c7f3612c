"""Apply records to the tables, idempotently, writing each changed cell once per batch.

The router applies a batch of one source partition's records to a :class:`Changes` overlay
(reads go through to the tables, writes stay in the overlay), then :meth:`Changes.write`
stores each changed cell once: one changelog record per cell and batch instead of one per
cell and record. Each cell carries the offset it has applied per source partition (see
``tables/cells.py``), so a batch replayed after a crash is recognised record by record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from logmonitor.records import ERROR_LEVELS
from logmonitor.tables.cells import Cell, applied, mark_applied
from logmonitor.tables.error_groups import error_groups, group_key
from logmonitor.tables.event_time import current_record_epoch
from logmonitor.tables.invalid_counts import invalid_counts
from logmonitor.tables.log_counts import WINDOW_SECONDS, log_counts
from logmonitor.tables.service_state import RING_SIZE, is_profile_key, profile_key, ring_key, service_state

__all__ = ["Changes"]

MAX_HOSTS = 64

_WINDOW, _GROUP, _STATE, _INVALID = "window", "group", "state", "invalid"


def _read_window(key: tuple[str, float]) -> Cell | None:
    current_record_epoch.set(key[1])  # the window's start: any time inside it picks it
    value: Cell = log_counts[key[0]].value()
    return value


def _write_window(key: tuple[str, float], cell: Cell) -> None:
    current_record_epoch.set(key[1])  # the window's start: any time inside it picks it
    log_counts[key[0]] = cell


_READ: dict[str, Callable[[Any], Cell | None]] = {
    _WINDOW: _read_window, _GROUP: error_groups.get, _STATE: service_state.get, _INVALID: invalid_counts.get,
}
_WRITE: dict[str, Callable[[Any, Cell], None]] = {
    _WINDOW: _write_window,
    _GROUP: error_groups.__setitem__,
    _STATE: service_state.__setitem__,
    _INVALID: invalid_counts.__setitem__,
}


class Changes:
    """The cells one batch of one source partition changes; written once each by :meth:`write`.

    A cell is copied the first time the batch changes it (table values are never changed in
    place) and updated in place after that, so a batch costs one copy per cell, not per record.
    """

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self._source = str(partition)
        self._cells: dict[tuple[str, Any], Cell | None] = {}
        self._changed: dict[tuple[str, Any], None] = {}

    def _get(self, table: str, key: Any) -> Cell | None:
        slot = (table, key)
        if slot not in self._cells:
            self._cells[slot] = _READ[table](key)
        return self._cells[slot]

    def _own(self, table: str, key: Any, new: Callable[[], Cell]) -> Cell:
        """The batch's own copy of a cell (``new()`` when there is none), to change in place."""
        slot = (table, key)
        if slot in self._changed:
            return self._cells[slot]  # type: ignore[return-value]
        stored = self._get(table, key)
        cell = new() if not stored else {
            name: value.copy() if isinstance(value, (dict, list)) else value for name, value in stored.items()
        }
        self._cells[slot] = cell
        self._changed[slot] = None
        return cell

    def _put(self, table: str, key: Any, cell: Cell) -> None:
        self._cells[(table, key)] = cell
        self._changed[(table, key)] = None

    def already_applied(self, service: str, offset: int) -> bool:
        """Whether the service profile already counts the record at ``offset``."""
        return applied(self._get(_STATE, profile_key(service)), self.partition, offset)

    def apply_record(self, record: dict[str, Any], offset: int) -> None:
        """Count a valid record everywhere it belongs; skip cells that already hold it."""
        self._count_in_window(record, offset)
        if record["level"] in ERROR_LEVELS:
            self._update_group(record, offset)
        if not self.already_applied(record["service"], offset):
            self._update_profile(record, offset)

    def invalid_applied(self, offset: int) -> bool:
        """Whether the invalid record at ``offset`` is already counted (and so dead-lettered)."""
        return applied(self._get(_INVALID, self._source), self.partition, offset)

    def apply_invalid(self, offset: int) -> None:
        """Count one record sent to the dead-letter topic."""
        if not self.invalid_applied(offset):
            cell = self._own(_INVALID, self._source, lambda: {"n": 0})
            cell["n"] += 1
            mark_applied(cell, self.partition, offset)

    def write(self) -> None:
        """Store every changed cell; service profiles last, after the ring slots they point to.

        Must run in the context of an event of this batch's partition (the tables write
        their changelog to the event's partition).
        """
        last = [slot for slot in self._changed if slot[0] == _STATE and is_profile_key(slot[1])]
        first = [slot for slot in self._changed if not (slot[0] == _STATE and is_profile_key(slot[1]))]
        for table, key in first + last:
            cell = self._cells[(table, key)]
            assert cell is not None
            _WRITE[table](key, cell)
        self._changed.clear()

    def _count_in_window(self, record: dict[str, Any], offset: int) -> None:
        key = (record["service"], record["epoch"] - record["epoch"] % WINDOW_SECONDS)
        if applied(self._get(_WINDOW, key), self.partition, offset):
            return
        cell = self._own(_WINDOW, key, dict)
        cell[record["level"]] = cell.get(record["level"], 0) + 1
        mark_applied(cell, self.partition, offset)

    def _update_group(self, record: dict[str, Any], offset: int) -> None:
        key = group_key(record["service"], record["fingerprint"])
        if applied(self._get(_GROUP, key), self.partition, offset):
            return
        exception = record.get("exception") or {}
        group = self._own(_GROUP, key, lambda: {
            "service": record["service"], "fingerprint": record["fingerprint"], "count": 0,
            "first_seen": record["timestamp"], "title": record["title"],
            "exception_type": exception.get("type"), "_created": time.time(),
        })
        group["count"] += 1
        group["first_seen"] = min(group["first_seen"], record["timestamp"])
        group["last_seen"] = max(group.get("last_seen", record["timestamp"]), record["timestamp"])
        group.update(level=record["level"], logger=record.get("logger"), last_id=record["id"])
        mark_applied(group, self.partition, offset)

    def _update_profile(self, record: dict[str, Any], offset: int) -> None:
        service, level = record["service"], record["level"]
        profile = self._own(_STATE, profile_key(service), lambda: {
            "name": service, "first_seen": record["timestamp"], "last_seen": record["timestamp"],
            "hosts": [], "totals": {}, "errors_seen": 0,
        })
        if level in ERROR_LEVELS:
            slot = profile["errors_seen"] % RING_SIZE
            ring_entry = {**record, "seq": profile["errors_seen"]}
            self._put(_STATE, ring_key(service, slot), mark_applied(ring_entry, self.partition, offset))
            profile["errors_seen"] += 1
        totals = profile["totals"]
        totals[level] = totals.get(level, 0) + 1
        profile["first_seen"] = min(profile["first_seen"], record["timestamp"])
        profile["last_seen"] = max(profile["last_seen"], record["timestamp"])
        host = record.get("host")
        if host and host not in profile["hosts"] and len(profile["hosts"]) < MAX_HOSTS:
            profile["hosts"].append(host)
        mark_applied(profile, self.partition, offset)
