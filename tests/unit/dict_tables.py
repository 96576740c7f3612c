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
from logmonitor.pipeline import aggregation
from logmonitor.pipeline.aggregation import Changes
from logmonitor.pipeline.tables import error_ring, expiry
from logmonitor.read import queries
from logmonitor.timestamps import iso_timestamp
from logmonitor.window import WINDOW_SECONDS

WINDOW_TABLE = "log_counts"


class Table(dict[Any, Any]):
    """A table: a dict that counts the cells written to it."""

    def __init__(self, name: str, writes: Counter[str]) -> None:
        super().__init__()
        self.name, self.writes = name, writes

    def __setitem__(self, key: Any, value: Any) -> None:
        self.writes[self.name] += 1
        super().__setitem__(key, value)


class WindowData:
    """``log_counts.table.data`` as the queries read it: ``{(service, (start, end)): cell}``."""

    def __init__(self, windows: Table) -> None:
        self._windows = windows

    def items(self) -> Iterator[tuple[tuple[str, tuple[float, float]], Any]]:
        for (service, start), cell in self._windows.items():
            yield (service, (start, start + WINDOW_SECONDS)), cell


class DictTables:
    """Every table ``Changes`` writes and the queries read, as dicts, patched in for one test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes: Counter[str] = Counter()
        self.groups = Table("error_groups", self.writes)
        self.state = Table("service_state", self.writes)
        self.invalid = Table("invalid_counts", self.writes)
        self.windows = Table(WINDOW_TABLE, self.writes)  # {(service, window start): cell}
        for module in (aggregation, error_ring, expiry, queries):
            monkeypatch.setattr(module, "service_state", self.state)
        for module in (aggregation, expiry, queries):
            monkeypatch.setattr(module, "error_groups", self.groups)
        for module in (aggregation, queries):
            monkeypatch.setattr(module, "invalid_counts", self.invalid)
        monkeypatch.setattr(aggregation, "_read_window", self.windows.get)
        monkeypatch.setattr(aggregation, "_write_window", self.windows.__setitem__)
        windowed = SimpleNamespace(data=WindowData(self.windows))  # what the queries read of log_counts.table
        monkeypatch.setattr(queries, "log_counts", SimpleNamespace(table=windowed))

    def snapshot(self) -> dict[str, dict[Any, Any]]:
        """A deep copy of every table, to compare with later."""
        return copy.deepcopy({"groups": dict(self.groups), "state": dict(self.state),
                              "invalid": dict(self.invalid), "windows": dict(self.windows)})


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
def tables(monkeypatch: pytest.MonkeyPatch) -> DictTables:
    """The tables as dicts for this test."""
    return DictTables(monkeypatch)
