"""This worker's error groups as the groups list reads them, kept up to date as groups change.

The list needs every group's statuses (to count and filter by them) and sort keys (to order),
~7 µs a group to derive: at 100,000 groups each request cost 0.75 s of event loop (P11). The
index derives them once; a request finds it *current* when the tables have not changed since
(their change generations, ``tables/changed_keys.py``), the partitions and escalation
parameters are the same, and no status or last hour can have changed with time
(``indexed_group.changes_at``). Otherwise it derives again only the groups whose cells
changed, into a copy (:meth:`GroupIndex.updated`), and builds the whole index again only when
it cannot know which changed, or too many did. Every answer is exact for the tables as the
request found them.

A build runs in slices of :data:`SLICE` groups that give the loop back between them (so
health and routing go on); requests that find the same tables share one build.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.cells import Cell, home_of
from logmonitor.pipeline.tables.changed_keys import changed_keys
from logmonitor.pipeline.tables.group_states import state_key
from logmonitor.read.answer_cache import shared_computation
from logmonitor.read.group_order import GroupOrder, sorting
from logmonitor.read.indexed_group import IndexedGroup, StatusCounts, indexed
from logmonitor.read.queries import Partitions
from logmonitor.triage.escalation import Escalation

__all__ = [
    "PREPARE_AHEAD", "SLICE", "UPDATED_AT_MOST", "GroupIndex", "GroupIndexes", "Selection", "Version", "answers_for",
    "index_now", "table_version",
]

SLICE = 2000
"""Groups derived (or sorted, or merged) before the loop gets a turn: ~15 ms of work."""
PREPARE_AHEAD = 30.0
"""Seconds before an index's period ends that the next period's index is built in the background."""
UPDATED_AT_MOST = 2000
"""Changed groups an update derives again (at once, ~15 ms); more, and the index is built again in slices."""
_SELECTIONS_KEPT = 16  # filters whose groups an index keeps (a dashboard pages through a few)

logger = logging.getLogger(__name__)

Selection = tuple[frozenset[str], StatusCounts]
"""The keys of the groups a filter selects, and their counts by status."""
Version = tuple[int, int, frozenset[int] | None, Escalation]
"""What an index derives from: the change generations of the groups and their states, the partitions, escalation."""


def table_version(tables: Tables, partitions: Partitions, escalation: Escalation) -> Version | None:
    """The version of ``tables`` now; None when they do not note their changes (nothing can be reused)."""
    groups, states = changed_keys(tables.error_groups), changed_keys(tables.group_states)
    if groups is None or states is None:
        return None
    return groups.generation, states.generation, None if partitions is None else frozenset(partitions), escalation


def answers_for(cell: Cell, partitions: Partitions) -> bool:
    """Whether a worker of ``partitions`` (None: all) answers for ``cell``: its home partition is one of them."""
    return partitions is None or home_of(cell) in partitions


@dataclass
class GroupIndex:
    """This worker's groups at one moment: exact for the tables at ``version`` from ``now`` to ``valid_until``."""

    version: Version | None
    """None: derived from tables that do not note their changes, so never reused."""
    now: float
    """The time the groups were derived at (their statuses and last hour hold until ``valid_until``)."""
    valid_until: float
    groups: dict[str, IndexedGroup] = field(default_factory=dict)
    counts: StatusCounts = field(default_factory=StatusCounts)
    stale: int = 0
    """Entries of the orders that are no longer live (their groups were derived again, or are gone)."""
    orders: dict[str, GroupOrder] = field(default_factory=dict)
    selections: dict[tuple[str, str], Selection] = field(default_factory=dict)
    """By ``("q", lower-case text)``, ``("service", name)``, ``("release", name)`` or ``("environment", name)``,
    those asked for lately."""
    _sorting: dict[str, asyncio.Future[Any]] = field(default_factory=dict)

    def current(self, version: Version | None, now: float) -> bool:
        """Whether this index is still exact for tables at ``version`` at ``now``."""
        return version is not None and self.version == version and self.now <= now < self.valid_until

    def add(self, key: str, cell: Cell | None, tables: Tables, partitions: Partitions, now: float,
            escalation: Escalation) -> IndexedGroup | None:
        """Derive the group of ``cell`` (under ``key``) and count it, if it is one of ``partitions``'."""
        if not cell or not answers_for(cell, partitions):
            return None  # gone, or another worker's
        group, changes = indexed(key, cell, tables.group_states.get(state_key(cell["service"], cell["fingerprint"])),
                                 now, escalation)
        self.groups[key] = group
        self.counts.add(group)
        self.valid_until = min(self.valid_until, changes)
        return group

    def updated(self, keys: Iterable[str], tables: Tables, partitions: Partitions, now: float,
                escalation: Escalation, version: Version) -> GroupIndex:
        """A copy at ``version`` with the groups of ``keys`` derived again (the others as they are)."""
        index = GroupIndex(version, self.now, self.valid_until, dict(self.groups), self.counts.copy(), self.stale)
        derived, gone = [], []
        for key in keys:
            earlier = index.groups.pop(key, None)
            if earlier is not None:
                index.counts.add(earlier, -1)
                gone.append(earlier)
            group = index.add(key, tables.error_groups.get(key), tables, partitions, now, escalation)
            if group is not None:
                derived.append(group)
        index.stale += len(gone)
        index.orders = {sort: order.with_groups(derived) for sort, order in self.orders.items()}
        index.selections = {chosen: _reselected(found, _selector(*chosen), gone, derived)
                            for chosen, found in self.selections.items()}
        return index

    async def sort(self, sort: str) -> None:
        """Make order ``sort`` in slices, once (requests meanwhile wait for the same sort)."""
        if sort not in self.orders:
            await shared_computation(self._sorting, sort, lambda: _drive(self._sorted(sort)))

    def sort_now(self, sort: str) -> None:
        """Make order ``sort`` at once (small tables, tests)."""
        if sort not in self.orders:
            _run(self._sorted(sort))

    def _sorted(self, sort: str) -> Iterator[None]:
        return sorting(list(self.groups.values()), sort, SLICE, lambda order: self.orders.__setitem__(sort, order))

    def selected(self, kind: str, value: str) -> Selection:
        """The groups whose text holds ``value`` (``kind`` q, lower case), or of the service, release or environment.

        Derived once from every group, then kept up to date by :meth:`updated` with the groups that
        changed: a page that filters costs what its selection costs, not what all groups cost.
        """
        found = self.selections.get((kind, value))
        if found is None:
            selects = _selector(kind, value)
            found = _selected(group for group in self.groups.values() if selects(group))
            if len(self.selections) >= _SELECTIONS_KEPT:
                del self.selections[next(iter(self.selections))]
            self.selections[kind, value] = found
        return found

    def page(self, sort: str, after: tuple[Any, ...] | None, limit: int, wanted: Callable[[IndexedGroup], bool],
             among: frozenset[str] | None = None) -> list[IndexedGroup]:
        """The first ``limit`` groups ``wanted`` in order ``sort`` below the cursor ``after``.

        Either the few groups ``among`` (keys of a selection that holds every wanted group), or a
        walk down the order (made by :meth:`sort`); whichever reads fewer groups: a walk finds
        ``limit`` of ``m`` selected groups after about ``limit * len(groups) / m``.
        """
        groups = self.groups
        if among is not None and len(among) ** 2 < limit * len(groups):
            below = (group for key in among if (group := groups.get(key)) is not None and wanted(group)
                     and (after is None or group.sort_key(sort) < after))
            return heapq.nlargest(limit, below, key=lambda group: group.sort_key(sort))
        return list(islice((group for group in self.orders[sort].descending(
            after, lambda group: groups.get(group.key) is group) if wanted(group)), limit))


def _selector(kind: str, value: str) -> Callable[[IndexedGroup], bool]:
    if kind == "q":
        return lambda group: group.matches(value)
    if kind == "release":
        return lambda group: value in group.releases
    if kind == "environment":
        return lambda group: value in group.environments
    return lambda group: group.service == value


def _selected(groups: Iterable[IndexedGroup]) -> Selection:
    counts = StatusCounts()
    keys = []
    for group in groups:
        keys.append(group.key)
        counts.add(group)
    return frozenset(keys), counts


def _reselected(found: Selection, selects: Callable[[IndexedGroup], bool], gone: list[IndexedGroup],
                derived: list[IndexedGroup]) -> Selection:
    """The selection once ``gone`` are no longer and ``derived`` are as they are now."""
    keys, counts = set(found[0]), found[1].copy()
    for group in gone:
        if group.key in keys:
            keys.discard(group.key)
            counts.add(group, -1)
    for group in derived:
        if selects(group):
            keys.add(group.key)
            counts.add(group)
    return frozenset(keys), counts


def _run(slices: Iterator[None]) -> None:
    for _ in slices:
        pass


async def _drive(slices: Iterator[None]) -> None:
    for _ in slices:
        await asyncio.sleep(0)  # the loop's turn: health, routing and other requests


def _derived(tables: Tables, partitions: Partitions, now: float, escalation: Escalation,
             index: GroupIndex) -> Iterator[None]:
    """Fill ``index`` with every group of ``partitions`` at ``now``, a slice at a time."""
    keys = list(tables.error_groups.keys())
    for start in range(0, len(keys), SLICE):
        for key in keys[start:start + SLICE]:
            index.add(key, tables.error_groups.get(key), tables, partitions, now, escalation)
        yield


def index_now(tables: Tables, partitions: Partitions, now: float, escalation: Escalation) -> GroupIndex:
    """Every group of ``partitions`` at ``now``, derived at once (small tables, tests)."""
    index = GroupIndex(version=table_version(tables, partitions, escalation), now=now, valid_until=float("inf"))
    _run(_derived(tables, partitions, now, escalation, index))
    return index


class GroupIndexes:
    """One worker's current index: reused while exact, updated where groups changed, else built in slices.

    Two builds run in the background (in slices, sorted in the orders in use), so that no request
    waits for one in the ordinary course: every index ends at a five-minute boundary at the latest
    (last hours move), and from :data:`PREPARE_AHEAD` seconds before, the next period's is built;
    and once an eighth of an index's order entries are dead (groups derived again since), a fresh
    one is, before the updates would give up at a quarter.
    """

    def __init__(self) -> None:
        self._index: GroupIndex | None = None
        self._next: GroupIndex | None = None
        self._building: tuple[Version | None, asyncio.Future[GroupIndex]] | None = None
        self._preparing: asyncio.Task[None] | None = None

    async def current(self, tables: Tables, partitions: Partitions, now: float, escalation: Escalation) -> GroupIndex:
        """An index of ``partitions`` exact for the tables as they are now (or were when a build for them began)."""
        index = await self._current(tables, partitions, now, escalation)
        if self._preparing is None and self._next is None:
            if index.valid_until - now < PREPARE_AHEAD:
                self._preparing = asyncio.ensure_future(self._prepare(tables, partitions, index.valid_until,
                                                                      list(index.orders), escalation))
            elif index.stale > max(SLICE, len(index.groups) // 8):
                self._preparing = asyncio.ensure_future(self._prepare(tables, partitions, now, list(index.orders),
                                                                      escalation))
        return index

    async def _current(self, tables: Tables, partitions: Partitions, now: float, escalation: Escalation
                       ) -> GroupIndex:
        while True:
            version = table_version(tables, partitions, escalation)
            following = self._next
            if following is not None and following.now <= now:  # its period has begun, or it is fresher
                self._next = None
                if version is not None and (following.current(version, now)
                                            or _changed_since(following, tables, version, now) is not None):
                    self._index = following
            index = self._index
            if index is not None and index.current(version, now):
                return index
            changed = None if index is None or version is None else _changed_since(index, tables, version, now)
            if index is not None and version is not None and changed is not None:
                self._index = index.updated(changed, tables, partitions, now, escalation, version)
                return self._index
            if self._building is None:
                return await self._build(tables, partitions, now, escalation, version)
            began_at, building = self._building
            if began_at is not None and began_at == version:
                return await asyncio.shield(building)
            # A build of older tables would miss what changed since (a status just set): wait, then look again.
            await asyncio.wait([building])

    async def _build(self, tables: Tables, partitions: Partitions, now: float, escalation: Escalation,
                     version: Version | None) -> GroupIndex:
        future: asyncio.Future[GroupIndex] = asyncio.get_running_loop().create_future()
        self._building = version, future
        try:
            index = GroupIndex(version=version, now=now, valid_until=float("inf"))
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

    async def _prepare(self, tables: Tables, partitions: Partitions, start: float, orders: list[str],
                       escalation: Escalation) -> None:
        """Build the index at time ``start`` in ``orders``, for requests from then on to update and use."""
        try:
            version = table_version(tables, partitions, escalation)
            following = GroupIndex(version=version, now=start, valid_until=float("inf"))
            await _drive(_derived(tables, partitions, start, escalation, following))
            for sort in orders:
                await following.sort(sort)
            if version is not None and following.valid_until > start:
                self._next = following
        except Exception:  # a request builds the index itself then; the loop must not log a lost task
            logger.exception("a background build of the groups list's index failed")
        finally:
            self._preparing = None


def _changed_since(index: GroupIndex, tables: Tables, version: Version, now: float) -> set[str] | None:
    """The keys of the groups to derive again to bring ``index`` to ``version``; None: build it again."""
    if index.version is None or index.version[2:] != version[2:] or not index.now <= now < index.valid_until:
        return None
    groups, states = changed_keys(tables.error_groups), changed_keys(tables.group_states)
    if groups is None or states is None:
        return None
    changed_groups, changed_states = groups.since(index.version[0]), states.since(index.version[1])
    if changed_groups is None or changed_states is None:
        return None
    changed = changed_groups | changed_states  # a group's state has the group's own key
    if len(changed) > UPDATED_AT_MOST or index.stale + len(changed) > max(SLICE, len(index.groups) // 4):
        return None  # deriving them, or skipping the orders' dead entries, would cost more than a build
    return changed
