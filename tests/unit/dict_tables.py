"""The tables as dicts, for unit tests of the pipeline (``Changes``, the router) and the read side (queries).

``Changes`` reads and writes cells by key; the queries read the same dicts. Each dict counts
the cells written to it, so a test can see that a batch writes each changed cell once.
The real tables, their changelogs and a real worker are covered by the integration tests.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from logmonitor.levels import ERROR_LEVELS
from logmonitor.pipeline.aggregation import Bounds, Changes
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.changed_keys import ChangedKeys
from logmonitor.pipeline.tables.event_time import current_record_epoch
from logmonitor.timestamps import iso_timestamp
from logmonitor.window import WINDOW_SECONDS

WINDOW_TABLE = "log_counts"


class Table(dict[Any, Any]):
    """A table: a dict that counts the cells written to it, and notes its changes as the real tables do."""

    def __init__(self, name: str, writes: Counter[str]) -> None:
        super().__init__()
        self.name, self.writes = name, writes
        self.changes = ChangedKeys()

    def __setitem__(self, key: Any, value: Any) -> None:
        self.writes[self.name] += 1
        self.changes.changed(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self.changes.changed(key)
        super().__delitem__(key)

    def pop(self, key: Any, *default: Any) -> Any:
        """As a real table's: a missing key raises KeyError, even with a default (its ``default=dict`` reads it
        as ``{}``, then the delete fails); delete with ``cell_table.discard``."""
        if key not in self:
            raise KeyError(key)
        self.changes.changed(key)
        return super().pop(key)


class WindowData:
    """``log_counts.table.data`` as the queries read it: ``{(service, (start, end)): cell}``."""

    def __init__(self, windows: Table) -> None:
        self._windows = windows

    def items(self) -> Iterator[tuple[tuple[str, tuple[float, float]], Any]]:
        for (service, start), cell in self._windows.items():
            yield (service, (start, start + WINDOW_SECONDS)), cell


class WindowedTable:
    """What the pipeline and the queries use of the windowed ``log_counts``, over ``{(service, start): cell}``.

    Like Faust's, it picks the window of the current record's event time (``current_record_epoch``).
    """

    def __init__(self, windows: Table) -> None:
        self._windows = windows
        self.table = SimpleNamespace(data=WindowData(windows))

    def _key(self, service: str) -> tuple[str, float]:
        epoch = current_record_epoch.get()
        return service, epoch - epoch % WINDOW_SECONDS

    def __getitem__(self, service: str) -> Any:
        cell = self._windows.get(self._key(service))
        return SimpleNamespace(value=lambda: cell)

    def __setitem__(self, service: str, cell: Any) -> None:
        self._windows[self._key(service)] = cell


class DictTables:
    """Every table as a dict, and the :class:`Tables` of them the pipeline and the queries take."""

    def __init__(self) -> None:
        self.writes: Counter[str] = Counter()
        self.groups = Table("error_groups", self.writes)
        self.state = Table("service_state", self.writes)
        self.invalid = Table("invalid_counts", self.writes)
        self.alerts = Table("alert_state", self.writes)
        self.group_states = Table("group_states", self.writes)
        self.windows = Table(WINDOW_TABLE, self.writes)  # {(service, window start): cell}
        self.tables = Tables(log_counts=WindowedTable(self.windows), error_groups=self.groups,
                             service_state=self.state, invalid_counts=self.invalid, alert_state=self.alerts,
                             group_states=self.group_states)

    def changes(self, partition: int, service_cap: int = 1000, group_cap: int = 1000,
                ring_bytes: int = 4 * 1024 * 1024, home: int | None = None) -> Changes:
        """A batch's overlay over these tables with these bounds (``home``: of records forwarded from ``partition``)."""
        return Changes(partition, self.tables, Bounds(service_cap, service_cap, group_cap, ring_bytes), home)

    def snapshot(self) -> dict[str, dict[Any, Any]]:
        """A deep copy of every table, to compare with later."""
        return copy.deepcopy({"groups": dict(self.groups), "state": dict(self.state),
                              "invalid": dict(self.invalid), "windows": dict(self.windows),
                              "group_states": dict(self.group_states)})


NOW = time.time()
MINUTE = NOW - NOW % WINDOW_SECONDS  # the window the records of :func:`record` fall in


def record(offset: int, service: str, level: str, minute: float = MINUTE) -> dict[str, Any]:
    """A parsed record as the router hands it to ``Changes`` (one kind of error per service)."""
    return {"service": service, "level": level, "epoch": minute + 1, "timestamp": iso_timestamp(minute + 1),
            "id": f"{service}-{offset}", "message": f"m{offset}", "title": "KeyError: boom", "extra": {},
            "fingerprint": f"fp-{service}", "host": "h1", "exception": {"type": "KeyError"}, "logger": "app"}


def apply_batch(changes: Changes, batch: list[tuple[int, str, str]], invalid: tuple[int, ...] = ()) -> Changes:
    """Apply records ``(offset, service, level)`` and invalid offsets as the router does; write; the overlay."""
    for offset, service, level in batch:
        one = record(offset, service, level)
        one["service"] = changes.counted_as(service, offset)
        if level in ERROR_LEVELS:
            one["fingerprint"] = changes.grouped_as(one["service"], one["fingerprint"], offset)
        changes.apply_record(one, offset, 100)
    for offset in invalid:
        changes.apply_invalid(offset)
    changes.write()
    return changes


@pytest.fixture
def tables() -> DictTables:
    """The tables as dicts for this test."""
    return DictTables()
