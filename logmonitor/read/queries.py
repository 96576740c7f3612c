"""The read layer: answers from this worker's table state, as mergeable partial results.

Each worker holds only the partitions assigned to it (plus standby copies, which are
skipped so nothing is counted twice). Every function here returns a *partial* answer
covering ``partitions``; the ``merge_*`` functions combine the partials of all workers
into the global answer. With one worker the local partial is the answer.

Windowed tables raise outside stream iteration unless read through the underlying
table (faust), so windows are read from ``log_counts.table.data``.

Answers name services as users see them: every partition's overflow bucket is one service,
``_overflow`` (``tables/service_registry.py``), whose profiles :func:`merge_profiles` adds up.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from logmonitor.levels import ERROR_LEVELS, LEVELS
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.cells import Cell, home_of
from logmonitor.pipeline.tables.error_ring import live_errors
from logmonitor.pipeline.tables.expiry import retention_cutoff
from logmonitor.pipeline.tables.service_registry import OVERFLOW, public_name
from logmonitor.pipeline.tables.service_state import MAX_HOSTS, PROFILE, RING_CHUNK, key_kind
from logmonitor.window import WINDOW_SECONDS

__all__ = [
    "ErrorQuery",
    "Partitions",
    "error_total",
    "groups",
    "invalid_total",
    "mentions",
    "merge_counts",
    "merge_newest",
    "merge_profiles",
    "profiles",
    "recent_errors",
    "window_counts",
]

Partitions = set[int] | None
"""The source partitions to answer for; None means every partition held locally."""


def _ours(cell: Cell, partitions: Partitions) -> bool:
    return partitions is None or home_of(cell) in partitions


@dataclass(frozen=True)
class ErrorQuery:
    """Filters for recent errors: all optional; ``q`` is a case-insensitive substring.

    ``trace_id`` and ``request_id`` match exactly: one trace's (or request's) errors, whatever their service.
    """

    service: str | None = None
    fingerprint: str | None = None  # one error group's (its detail's latest events)
    level: str | None = None
    since: str | None = None
    until: str | None = None
    q: str | None = None
    limit: int = 100
    trace_id: str | None = None
    request_id: str | None = None

    def matches(self, record: dict[str, Any]) -> bool:
        """Whether ``record`` passes every filter that is set."""
        if self.service is not None and public_name(record["service"]) != self.service:
            return False
        if self.level is not None and record["level"] != self.level:
            return False
        if self.fingerprint is not None and record.get("fingerprint") != self.fingerprint:
            return False
        if self.since is not None and record["timestamp"] < self.since:
            return False
        if self.until is not None and record["timestamp"] > self.until:
            return False
        if self.trace_id is not None and record.get("trace_id") != self.trace_id:
            return False
        if self.request_id is not None and record.get("request_id") != self.request_id:
            return False
        return not self.q or mentions(record, self.q.lower())


def mentions(record: dict[str, Any], needle: str) -> bool:
    """Whether ``needle`` (lower case) is in the record's message, logger, exception type or message, in any case.

    A plain substring (no pattern): linear in the text. Fields that are not text are passed over.
    """
    exception = record.get("exception")
    fields = (record.get("message"), record.get("logger"),
              *((exception.get("type"), exception.get("message")) if isinstance(exception, dict) else ()))
    return any(isinstance(text, str) and needle in text.lower() for text in fields)


def _public(cell: Cell, name_field: str) -> dict[str, Any]:
    """The cell without its bookkeeping, naming its service as answers do."""
    public = {k: v for k, v in cell.items() if not k.startswith("_")}
    public[name_field] = public_name(cell[name_field])
    return public


def _state_cells(tables: Tables, kind: str, partitions: Partitions) -> Iterator[tuple[str, Cell]]:
    for key, cell in tables.service_state.items():
        if cell and key_kind(key) == kind and _ours(cell, partitions):
            yield key, cell


def profiles(tables: Tables, partitions: Partitions = None) -> dict[str, dict[str, Any]]:
    """Service profiles: name, first/last seen, hosts, totals by level, errors seen."""
    found = (_public(cell, "name") for _key, cell in _state_cells(tables, PROFILE, partitions))
    return merge_profiles({profile["name"]: profile} for profile in found)


def merge_profiles(partials: Iterable[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Merge ``{name: profile}`` partials; the overflow buckets of all partitions add up to one profile."""
    merged: dict[str, dict[str, Any]] = {}
    for partial in partials:
        for name, profile in partial.items():
            held = merged.get(name)
            merged[name] = _add_profiles(held, profile) if held is not None and name == OVERFLOW else profile
    return merged


def _add_profiles(one: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    totals = dict(one["totals"])
    for level, n in other["totals"].items():
        totals[level] = totals.get(level, 0) + n
    return {
        **one, "totals": totals, "errors_seen": one["errors_seen"] + other["errors_seen"],
        "first_seen": min(one["first_seen"], other["first_seen"]),
        "last_seen": max(one["last_seen"], other["last_seen"]),
        "hosts": sorted({*one["hosts"], *other["hosts"]})[:MAX_HOSTS],  # the same whichever worker merges
    }


def recent_errors(tables: Tables, query: ErrorQuery, partitions: Partitions = None) -> list[dict[str, Any]]:
    """The newest ``query.limit`` errors from the rings that match ``query``, newest first."""
    errors_seen = {cell["name"]: cell["errors_seen"] for _key, cell in _state_cells(tables, PROFILE, partitions)}
    matching = (
        error for _key, chunk in _state_cells(tables, RING_CHUNK, partitions)
        if query.service is None or public_name(chunk["service"]) == query.service
        for error in live_errors(chunk, errors_seen.get(chunk["service"], 0)) if query.matches(error)
    )
    return [{**error, "service": public_name(error["service"])}  # a copy: not the table's own
            for error in heapq.nlargest(query.limit, matching, key=_newest_first)]


def _newest_first(record: dict[str, Any]) -> tuple[str, int, str]:
    """Sort key: time, then per-service sequence, then id, so every worker orders ties alike."""
    return record["timestamp"], record.get("seq", 0), record.get("id", "")


def merge_newest(partials: Iterable[list[dict[str, Any]]], limit: int, key: str = "timestamp") -> list[dict[str, Any]]:
    """Merge workers' newest-first lists into one newest-first list of at most ``limit``."""
    merged = [item for partial in partials for item in partial]
    return heapq.nlargest(limit, merged, key=lambda item: (item.get(key) or "", item.get("seq", 0),
                                                           item.get("id") or item.get("fingerprint") or ""))


def groups(tables: Tables, service: str | None = None, limit: int = 100,
           partitions: Partitions = None) -> list[dict[str, Any]]:
    """Error groups, most recently seen first."""
    found = (
        _public(cell, "service") for cell in tables.error_groups.values()
        if cell and _ours(cell, partitions) and (service is None or public_name(cell["service"]) == service)
    )
    return heapq.nlargest(limit, found, key=lambda group: (group["last_seen"], 0, group["fingerprint"]))


def window_counts(
    tables: Tables,
    since: float,
    until: float,
    *,
    retention: timedelta,
    service: str | None = None,
    partitions: Partitions = None,
) -> dict[str, dict[str, dict[int, int]]]:
    """Per-minute counts in ``[since, until)``: ``{service: {level: {window_start: n}}}``.

    Windows past ``retention`` are left out even before the sweep (tables/expiry.py) drops them.
    """
    counts: dict[str, dict[str, dict[int, int]]] = {}
    since = max(since, retention_cutoff(retention) - WINDOW_SECONDS)
    for (stored_name, (start, _end)), cell in list(tables.log_counts.table.data.items()):
        name = public_name(stored_name)
        if not since <= start < until or (service is not None and name != service) or not _ours(cell, partitions):
            continue
        for level in LEVELS:
            if cell.get(level):
                by_start = counts.setdefault(name, {}).setdefault(level, {})
                by_start[int(start)] = by_start.get(int(start), 0) + cell[level]
    return counts


def merge_counts(partials: Iterable[dict[str, dict[str, dict[int, int]]]]) -> dict[str, dict[str, dict[int, int]]]:
    """Add up workers' :func:`window_counts` partials."""
    merged: dict[str, dict[str, dict[int, int]]] = {}
    for partial in partials:
        for name, levels in partial.items():
            for level, by_start in levels.items():
                target = merged.setdefault(name, {}).setdefault(level, {})
                for start, n in by_start.items():
                    target[int(start)] = target.get(int(start), 0) + n
    return merged


def invalid_total(tables: Tables, partitions: Partitions = None) -> int:
    """How many invalid records went to the dead-letter topic, all time."""
    return sum(cell.get("n", 0) for cell in tables.invalid_counts.values() if cell and _ours(cell, partitions))


def error_total(counts: dict[str, dict[str, int]]) -> int:
    """How many ERROR and CRITICAL records a ``{service: {level: n}}`` mapping holds."""
    return sum(n for levels in counts.values() for level, n in levels.items() if level in ERROR_LEVELS)
