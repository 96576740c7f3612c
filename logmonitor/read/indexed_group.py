"""One error group as the groups list filters, counts and orders it, derived from its cells at one moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from logmonitor.pipeline.tables.cells import Cell
from logmonitor.pipeline.tables.group_states import group_id
from logmonitor.pipeline.tables.service_registry import public_name
from logmonitor.timestamps import epoch_of
from logmonitor.triage.buckets import FIVE_MINUTES
from logmonitor.triage.commands import SHOWN
from logmonitor.triage.escalation import Escalation, last_hour
from logmonitor.triage.releases import group_environments, group_releases
from logmonitor.triage.status import REGRESSION
from logmonitor.triage.view import RECENT_SECONDS, statuses

__all__ = ["IndexedGroup", "StatusCounts", "changes_at", "indexed", "sort_key"]

_SEARCHED = "\x00"  # between the searched fields of a group; a query text holding it searches them one by one


def sort_key(sort: str, *, last_seen: str, first_seen: str, count: int, hour: int, id: str) -> tuple[Any, ...]:
    """A group's key in order ``sort`` (larger first); ties go by id, so every worker orders them alike."""
    primary = {"last_seen": last_seen, "first_seen": first_seen, "count": count, "trend": (hour, last_seen)}[sort]
    return primary, id


@dataclass(frozen=True, slots=True)
class IndexedGroup:
    """A group's filter and sort fields as derived at one moment, with the cells they came from."""

    key: str
    id: str
    service: str
    """As answers name it (``public_name``)."""
    searched: str
    """Title, exception type, logger, fingerprint and stored service name, lower case, joined by NUL."""
    statuses: tuple[str, ...]
    last_seen: str
    first_seen: str
    count: int
    last_hour: int
    releases: frozenset[str]
    """The releases its cell keeps (the latest 20), for ``release=``."""
    environments: frozenset[str]
    cell: Cell
    state: Cell | None

    def sort_key(self, sort: str) -> tuple[Any, ...]:
        """This group's key in order ``sort`` (from the fields as derived, whatever became of the cell since)."""
        return sort_key(sort, last_seen=self.last_seen, first_seen=self.first_seen, count=self.count,
                        hour=self.last_hour, id=self.id)

    def matches(self, needle: str) -> bool:
        """Whether the lower-case ``needle`` is in one of the searched fields."""
        if _SEARCHED in needle:
            return any(needle in text for text in self.searched.split(_SEARCHED))
        return needle in self.searched


def changes_at(state: Cell | None, first_seen: float, now: float) -> float:
    """The first time after ``now`` at which a group's statuses or last hour can change without a write.

    The last hour and escalation move with the five-minute buckets (hours and days start on one);
    ``new`` and ``regressed`` end :data:`RECENT_SECONDS` after first seen and after the reopening;
    an ignore may end at its time.
    """
    times = [FIVE_MINUTES.start(now) + FIVE_MINUTES.size, first_seen + RECENT_SECONDS]
    if state:
        history = state.get("history") or []
        if history and history[-1].get("why") == REGRESSION:
            times.append(history[-1]["at"] + RECENT_SECONDS)
        until = (state.get("ignore") or {}).get("until")
        if until is not None:
            times.append(until)
    return min((time for time in times if time > now), default=now)


def indexed(key: str, cell: Cell, state: Cell | None, now: float,
            escalation: Escalation) -> tuple[IndexedGroup, float]:
    """The group of ``cell`` and ``state`` at ``now``, and when it can next change with time alone."""
    first_seen = epoch_of(cell["first_seen"])
    texts = (cell.get("title") or "", cell.get("exception_type") or "", cell.get("logger") or "",
             cell["fingerprint"], cell["service"])
    group = IndexedGroup(
        key=key, id=group_id(cell["service"], cell["fingerprint"]), service=public_name(cell["service"]),
        searched=_SEARCHED.join(texts).lower(),
        statuses=statuses(state, first_seen=first_seen, now=now, escalation=escalation),
        last_seen=cell["last_seen"], first_seen=cell["first_seen"], count=cell["count"],
        last_hour=last_hour((state or {}).get("counts"), now), releases=group_releases(cell),
        environments=group_environments(cell), cell=cell, state=state)
    return group, changes_at(state, first_seen, now)


@dataclass
class StatusCounts:
    """Groups by status: of all, and per service (as answers name it)."""

    all: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SHOWN, 0))
    by_service: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, group: IndexedGroup, sign: int = 1) -> None:
        """Count ``group`` (``sign`` -1: no longer count it)."""
        service = self.by_service.setdefault(group.service, dict.fromkeys(SHOWN, 0))
        for status in group.statuses:
            self.all[status] += sign
            service[status] += sign

    def of(self, service: str | None) -> dict[str, int]:
        """The counts of ``service``, or of all (None)."""
        if service is None:
            return dict(self.all)
        return dict(self.by_service.get(service) or dict.fromkeys(SHOWN, 0))

    def copy(self) -> StatusCounts:
        """A copy to change."""
        return StatusCounts(dict(self.all), {service: dict(counts) for service, counts in self.by_service.items()})
