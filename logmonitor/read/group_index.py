"""This worker's error groups as the groups list reads them: derived once, shared while nothing changed.

The list needs every group's statuses (to count and filter by them) and sort keys (to order),
~7 µs a group to derive: at 100,000 groups each request cost 0.75 s of event loop (P11). The
index derives them once and every request reuses it while it is current: the same partitions
and escalation parameters, no write to the groups or their states since (the tables' write
generations, ``tables/cell_table.py``), and no status or last-hour count changed with time
(:func:`changes_at`). A page then walks one order from its cursor, and the counts by status
are kept per service.

Building runs in slices of :data:`SLICE` groups that give the loop back between them (so
health and routing go on), and concurrent requests share one build. Each group is read
whole (its cell with its state) within a slice; groups written during a build make the
next request build again.
"""

from __future__ import annotations

import asyncio
import heapq
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.cell_table import write_generation
from logmonitor.pipeline.tables.cells import Cell, source_partitions
from logmonitor.pipeline.tables.group_states import group_id, state_key
from logmonitor.pipeline.tables.service_registry import public_name
from logmonitor.read.queries import Partitions
from logmonitor.timestamps import epoch_of
from logmonitor.triage.buckets import FIVE_MINUTES
from logmonitor.triage.commands import SHOWN
from logmonitor.triage.escalation import Escalation, last_hour
from logmonitor.triage.status import REGRESSION
from logmonitor.triage.view import RECENT_SECONDS, statuses

__all__ = [
    "SLICE", "GroupIndex", "GroupIndexes", "IndexedGroup", "changes_at", "index_now", "sort_key", "table_version",
]

SLICE = 2000
"""Groups derived (or sorted, or merged) before the loop gets a turn: ~15 ms of work."""
_SEARCHED = "\x00"  # between the searched fields of a group; no query text holds it (else they are searched one by one)
_MATCHES_KEPT = 8  # text filters whose matches an index keeps (a dashboard pages through one at a time)


def sort_key(sort: str, *, last_seen: str, first_seen: str, count: int, hour: int, id: str) -> tuple[Any, ...]:
    """A group's key in order ``sort`` (larger first); ties go by id, so every worker orders them alike."""
    primary = {"last_seen": last_seen, "first_seen": first_seen, "count": count, "trend": (hour, last_seen)}[sort]
    return primary, id


@dataclass(frozen=True, slots=True)
class IndexedGroup:
    """One group as the list filters and orders it, with the cells it was derived from."""

    key: str
    id: str
    service: str
    """As answers name it (``public_name``)."""
    searched: str
    """Title, exception type, logger, fingerprint and stored service name, lower case, joined by NUL."""
    statuses: tuple[str, ...]
    last_hour: int
    cell: Cell
    state: Cell | None

    def sort_key(self, sort: str) -> tuple[Any, ...]:
        """This group's key in order ``sort``."""
        cell = self.cell
        return sort_key(sort, last_seen=cell["last_seen"], first_seen=cell["first_seen"], count=cell["count"],
                        hour=self.last_hour, id=self.id)

    def matches(self, needle: str) -> bool:
        """Whether the lower-case ``needle`` is in one of the searched fields."""
        if _SEARCHED in needle:
            return any(needle in text for text in self.searched.split(_SEARCHED))
        return needle in self.searched


def changes_at(state: Cell | None, first_seen: float, now: float) -> float:
    """The first time after ``now`` at which a group's statuses or last hour can change without a write.

    The last hour and escalation move with the five-minute buckets; ``new`` and ``regressed`` end
    :data:`RECENT_SECONDS` after first seen and after the reopening; an ignore may end at its time.
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


def _indexed(key: str, cell: Cell, state: Cell | None, now: float,
             escalation: Escalation) -> tuple[IndexedGroup, float]:
    first_seen = epoch_of(cell["first_seen"])
    texts = (cell.get("title") or "", cell.get("exception_type") or "", cell.get("logger") or "",
             cell["fingerprint"], cell["service"])
    group = IndexedGroup(
        key=key, id=group_id(cell["service"], cell["fingerprint"]), service=public_name(cell["service"]),
        searched=_SEARCHED.join(texts).lower(),
        statuses=statuses(state, first_seen=first_seen, now=now, escalation=escalation),
        last_hour=last_hour((state or {}).get("counts"), now), cell=cell, state=state)
    return group, changes_at(state, first_seen, now)


@dataclass(frozen=True)
class _Counts:
    """Groups by status: of all, and per service."""

    all: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SHOWN, 0))
    by_service: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, group: IndexedGroup) -> None:
        service = self.by_service.setdefault(group.service, dict.fromkeys(SHOWN, 0))
        for status in group.statuses:
            self.all[status] += 1
            service[status] += 1

    def of(self, service: str | None) -> dict[str, int]:
        if service is None:
            return dict(self.all)
        return dict(self.by_service.get(service) or dict.fromkeys(SHOWN, 0))


@dataclass
class GroupIndex:
    """This worker's groups at one moment: exact while the tables are at ``version``, until ``valid_until``."""

    version: tuple[Any, ...] | None
    """None: derived from tables that do not count their writes, so never reused."""
    valid_until: float
    groups: list[IndexedGroup] = field(default_factory=list)
    counts: _Counts = field(default_factory=_Counts)
    _orders: dict[str, tuple[list[tuple[Any, ...]], list[IndexedGroup]]] = field(default_factory=dict)
    _sorting: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    _matches: dict[str, tuple[frozenset[str], _Counts]] = field(default_factory=dict)

    def current(self, version: tuple[Any, ...] | None, now: float) -> bool:
        """Whether this index is still exact for tables at ``version`` at ``now``."""
        return version is not None and self.version == version and now < self.valid_until

    async def sort(self, sort: str) -> None:
        """Make order ``sort`` in slices, once (requests meanwhile wait for the same sort)."""
        if sort not in self._orders:
            await _shared(self._sorting, sort, lambda: _drive(self._sorted(sort)))

    def sort_now(self, sort: str) -> None:
        """Make order ``sort`` at once (off the loop, or small)."""
        if sort not in self._orders:
            _run(self._sorted(sort))

    def _sorted(self, sort: str) -> Iterator[None]:
        runs = []
        for start in range(0, len(self.groups), SLICE):  # a sort of all at once held the loop for 0.2 s
            runs.append(sorted((group.sort_key(sort), group) for group in self.groups[start:start + SLICE]))
            yield
        keys: list[tuple[Any, ...]] = []
        ordered: list[IndexedGroup] = []
        merged = heapq.merge(*runs, key=lambda pair: pair[0])  # keys are unique: the id breaks ties
        while chunk := list(islice(merged, SLICE * 4)):
            keys.extend(key for key, _group in chunk)
            ordered.extend(group for _key, group in chunk)
            yield
        self._orders[sort] = keys, ordered

    def matching(self, needle: str) -> tuple[frozenset[str], _Counts]:
        """The keys of the groups whose searched fields hold ``needle`` (lower case), and their counts by status."""
        found = self._matches.get(needle)
        if found is None:
            counts = _Counts()
            keys = []
            whole = _SEARCHED not in needle
            for group in self.groups:
                if (needle in group.searched) if whole else group.matches(needle):
                    keys.append(group.key)
                    counts.add(group)
            if len(self._matches) >= _MATCHES_KEPT:
                del self._matches[next(iter(self._matches))]
            found = self._matches[needle] = frozenset(keys), counts
        return found

    def page(self, sort: str, after: tuple[Any, ...] | None, limit: int,
             wanted: Callable[[IndexedGroup], bool]) -> list[IndexedGroup]:
        """The first ``limit`` groups ``wanted`` in order ``sort`` (made by :meth:`sort`) after the cursor ``after``."""
        keys, ordered = self._orders[sort]
        end = len(keys) if after is None else bisect_left(keys, after)  # keys below the cursor: [0, end)
        return list(islice((ordered[at] for at in range(end - 1, -1, -1) if wanted(ordered[at])), limit))


def _run(slices: Iterator[None]) -> None:
    for _ in slices:
        pass


async def _drive(slices: Iterator[None]) -> None:
    for _ in slices:
        await asyncio.sleep(0)  # the loop's turn: health, routing and other requests


async def _shared(pending: dict[str, asyncio.Future[Any]], key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
    """``compute()``'s answer; whoever asks while it runs waits for the same one."""
    running = pending.get(key)
    if running is not None:
        return await asyncio.shield(running)
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    pending[key] = future
    try:
        answer = await compute()
    except BaseException as error:
        future.set_exception(error)
        future.exception()  # retrieved here, so an unawaited failure is not reported twice
        raise
    else:
        future.set_result(answer)
        return answer
    finally:
        del pending[key]


def _ours(cell: Cell, partitions: Partitions) -> bool:
    return partitions is None or bool(source_partitions(cell) & partitions)


def table_version(tables: Tables, partitions: Partitions, escalation: Escalation) -> tuple[Any, ...] | None:
    """What an index of ``partitions`` derives from; None when the tables do not count their writes."""
    generations = write_generation(tables.error_groups), write_generation(tables.group_states)
    if None in generations:
        return None
    return (*generations, None if partitions is None else frozenset(partitions), escalation)


def _derived(tables: Tables, partitions: Partitions, now: float, escalation: Escalation,
             index: GroupIndex) -> Iterator[None]:
    """Fill ``index`` with every group of ``partitions`` at ``now``, a slice at a time."""
    keys = list(tables.error_groups.keys())
    for start in range(0, len(keys), SLICE):
        for key in keys[start:start + SLICE]:
            cell = tables.error_groups.get(key)
            if not cell or not _ours(cell, partitions):
                continue  # gone since the keys were listed, or another worker's
            state = tables.group_states.get(state_key(cell["service"], cell["fingerprint"]))
            group, changes = _indexed(key, cell, state, now, escalation)
            index.groups.append(group)
            index.counts.add(group)
            index.valid_until = min(index.valid_until, changes)
        yield


def index_now(tables: Tables, partitions: Partitions, now: float, escalation: Escalation) -> GroupIndex:
    """Every group of ``partitions`` at ``now``, derived at once (small tables, tests)."""
    index = GroupIndex(version=table_version(tables, partitions, escalation), valid_until=float("inf"))
    _run(_derived(tables, partitions, now, escalation, index))
    return index


class GroupIndexes:
    """One worker's current index: reused while exact, else built in slices, one build at a time."""

    def __init__(self) -> None:
        self._index: GroupIndex | None = None
        self._building: tuple[tuple[Any, ...] | None, asyncio.Future[GroupIndex]] | None = None

    async def current(self, tables: Tables, partitions: Partitions, now: float, escalation: Escalation) -> GroupIndex:
        """An index of ``partitions`` exact for the tables as they are now (or were when a build for them began)."""
        while True:
            version = table_version(tables, partitions, escalation)
            if self._index is not None and self._index.current(version, now):
                return self._index
            if self._building is None:
                return await self._build(tables, partitions, now, escalation, version)
            began_at, building = self._building
            if began_at is not None and began_at == version:
                return await asyncio.shield(building)
            # A build of older tables would miss what changed since (a status just set): wait, then look again.
            await asyncio.wait([building])

    async def _build(self, tables: Tables, partitions: Partitions, now: float, escalation: Escalation,
                     version: tuple[Any, ...] | None) -> GroupIndex:
        future: asyncio.Future[GroupIndex] = asyncio.get_running_loop().create_future()
        self._building = version, future
        try:
            index = GroupIndex(version=version, valid_until=float("inf"))
            await _drive(_derived(tables, partitions, now, escalation, index))
            self._index = index
            future.set_result(index)
            return index
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here, so an unawaited failure is not reported twice
            raise
        finally:
            self._building = None
