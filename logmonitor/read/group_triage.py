"""Error groups with their triage: the list (filtered, sorted, counted by status) and one group's detail.

Each worker answers for its partitions (a partial); :func:`merge_group_lists` and
:func:`merge_group_detail` make the answer of the app. A group is named by its id
(``tables/group_states.py``). Every group's statuses come from ``triage/view.py``; the
``escalating`` one with the parameters of the first ``escalating`` alert rule, if any.
A worker's list is read from its index of the groups (``group_index.py``), so a page costs what
a page costs, not what all groups cost.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from logmonitor.alerts.rules import AlertConfig
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.cells import Cell, home_of
from logmonitor.pipeline.tables.group_states import group_id, state_key
from logmonitor.pipeline.tables.service_registry import public_name
from logmonitor.read.group_index import GroupIndex, GroupIndexes, Selection, answers_for, index_now
from logmonitor.read.indexed_group import IndexedGroup, StatusCounts, sort_key
from logmonitor.read.queries import ErrorQuery, Partitions, recent_errors
from logmonitor.timestamps import epoch_of
from logmonitor.triage.commands import SHOWN, TriageError
from logmonitor.triage.escalation import ESCALATION, Escalation, last_hour
from logmonitor.triage.releases import shown_releases
from logmonitor.triage.status import COMMANDS_APPLIED
from logmonitor.triage.view import group_detail, group_status, status_filter
from logmonitor.web.errors import BadParameter
from logmonitor.web.params import query_int, text_param

__all__ = [
    "EVENTS_SHOWN", "MAX_CURSOR", "SORTS", "GroupQuery", "escalation_of", "group_list", "group_query",
    "group_with_detail", "merge_group_detail", "merge_group_lists", "next_cursor", "shared_group_list",
]

EVENTS_SHOWN = 20
"""The latest events a group's detail shows (from its service's ring of recent errors)."""
SORTS = ("last_seen", "first_seen", "count", "trend")
"""``sort=``: newest last event, newest group, most events, most events in the last hour; each descending."""
MAX_CURSOR = 600
"""Characters of ``after=``: a sort value (a count, or a time of at most 40 characters) and a group id (512)."""


@dataclass(frozen=True)
class GroupQuery:
    """Filters and order of ``GET /api/v1/logs/groups``; ``q`` is a case-insensitive substring.

    ``release``: groups seen in that release (among the latest 20 each keeps); ``environment``: in that one.
    """

    status: str | None = None
    service: str | None = None
    q: str | None = None
    sort: str = "last_seen"
    limit: int = 100
    after: tuple[Any, ...] | None = None
    """The sort key of the last group of the page before (``after=``, the ``next`` of its answer)."""
    release: str | None = None
    environment: str | None = None

    def order(self, group: Mapping[str, Any]) -> tuple[Any, ...]:
        """The sort key (larger first) of a listed group; ties go by id, so every worker orders them alike."""
        return sort_key(self.sort, last_seen=group["last_seen"], first_seen=group["first_seen"],
                        count=group["count"], hour=group["last_hour"], id=group["id"])

    def _selections(self, index: GroupIndex) -> list[Selection]:
        """The index's selections of the text, release and environment filters that are set."""
        chosen = [index.selected("q", self.q.lower())] if self.q else []
        chosen += [index.selected(kind, value) for kind, value in (("release", self.release),
                                                                   ("environment", self.environment))
                   if value is not None]
        return chosen

    def wanted(self, index: GroupIndex) -> Callable[[IndexedGroup], bool]:
        """Whether an indexed group passes the filters (its text among ``index``'s selection of ``q``)."""
        matched = index.selected("q", self.q.lower())[0] if self.q else None
        service, status, release, environment = self.service, self.status, self.release, self.environment

        def wanted(group: IndexedGroup) -> bool:
            return ((matched is None or group.key in matched) and (service is None or group.service == service)
                    and (status is None or status in group.statuses)
                    and (release is None or release in group.releases)
                    and (environment is None or environment in group.environments))
        return wanted

    def among(self, index: GroupIndex) -> frozenset[str] | None:
        """The fewest groups that hold every wanted one: a filter's selection (None: all)."""
        chosen = [keys for keys, _counts in self._selections(index)]
        if self.service is not None:
            chosen.append(index.selected("service", self.service)[0])
        return min(chosen, key=len, default=None)

    def counts(self, index: GroupIndex) -> dict[str, int]:
        """The groups by status that pass the text, release, environment and service filters (of all pages).

        One filter's counts are its selection's; several filters count the groups of the smallest
        selection that the others hold too (what a page of them costs anyway).
        """
        chosen = self._selections(index)
        if len(chosen) <= 1:
            return (chosen[0][1] if chosen else index.counts).of(self.service)
        smallest, *others = sorted((keys for keys, _counts in chosen), key=len)
        counts = StatusCounts()
        for key in smallest:
            if all(key in keys for keys in others) and (group := index.groups.get(key)) is not None:
                counts.add(group)
        return counts.of(self.service)


def next_cursor(query: GroupQuery, group: Mapping[str, Any]) -> str:
    """The ``after=`` of the page that follows ``group``: its sort value and id, ``~`` between (not in an id)."""
    primary = query.order(group)[0]
    value = f"{primary[0]},{primary[1]}" if query.sort == "trend" else str(primary)
    return f"{value}~{group['id']}"


def _digits(text: str) -> bool:
    return 0 < len(text) <= 20 and text.isascii() and text.isdigit()


def _cursor(raw: str | None, sort: str) -> tuple[Any, ...] | None:
    """The sort key an ``after=`` names (see :func:`next_cursor`).

    Raises:
        BadParameter: not a cursor of ``sort``.
    """
    if raw is None:
        return None
    value, tilde, group = raw.rpartition("~")
    count, comma, time = value.partition(",")
    if sort == "count" and _digits(value):
        return int(value), group
    if sort == "trend" and comma and _digits(count) and 0 < len(time) <= 40:
        return (int(count), time), group
    if sort in ("last_seen", "first_seen") and 0 < len(value) <= 40:
        return value, group
    raise BadParameter(f"after must be the next of a page sorted by {sort}, got {raw[:60]!r}" if tilde
                       else f"after must be the next of a page, got {raw[:60]!r}")


def group_query(query: Mapping[str, str]) -> GroupQuery:
    """The validated parameters of ``GET /api/v1/logs/groups``.

    Raises:
        BadParameter: an unknown status or sort, a text or name too long, a limit out of 1..1000.
    """
    try:
        status = status_filter(text_param(query, "status"))
    except TriageError as error:
        raise BadParameter(error.detail) from None
    sort = text_param(query, "sort") or "last_seen"
    if sort not in SORTS:
        raise BadParameter(f"sort must be one of {', '.join(SORTS)}, got {sort[:40]!r}")
    return GroupQuery(status=status, service=text_param(query, "service"), q=text_param(query, "q"), sort=sort,
                      limit=query_int(query, "limit", 100, 1, 1000),
                      after=_cursor(text_param(query, "after", MAX_CURSOR), sort),
                      release=text_param(query, "release"), environment=text_param(query, "environment"))


def escalation_of(config: AlertConfig) -> Escalation:
    """The escalation parameters of the first ``escalating`` rule, else the defaults."""
    rule = next((rule for rule in config.rules if rule.kind == "escalating"), None)
    return ESCALATION if rule is None else Escalation(rule.factor, rule.min_volume)


def _state(tables: Tables, cell: Cell) -> Cell | None:
    return tables.group_states.get(state_key(cell["service"], cell["fingerprint"]))


def _listed(cell: Cell, state: Cell | None, now: float, escalation: Escalation) -> dict[str, Any]:
    """A group as the list shows it: its fields, id, releases, statuses, ignore, sparkline and last hour's events."""
    public = {name: value for name, value in cell.items() if not name.startswith("_")}
    return {
        "id": group_id(cell["service"], cell["fingerprint"]), "hosts": [], "first_release": None,
        "last_release": None, "environments": [], **public, "releases": shown_releases(cell),
        "service": public_name(cell["service"]),
        **group_status(state, first_seen=epoch_of(cell["first_seen"]), now=now, escalation=escalation),
        "last_hour": last_hour((state or {}).get("counts"), now),
    }


def _page(index: GroupIndex, query: GroupQuery, now: float, escalation: Escalation) -> dict[str, Any]:
    """The partial from an index sorted by ``query.sort``: the page's groups in full, the counts of all pages."""
    chosen = index.page(query.sort, query.after, query.limit, query.wanted(index), query.among(index))
    return {"groups": [_listed(group.cell, group.state, now, escalation) for group in chosen],
            "by_status": query.counts(index)}


def group_list(tables: Tables, query: GroupQuery, partitions: Partitions, now: float,
               escalation: Escalation) -> dict[str, Any]:
    """This worker's partial, derived at once: the first ``query.limit`` matching groups in order, and all by status."""
    index = index_now(tables, partitions, now, escalation)
    index.sort_now(query.sort)
    return _page(index, query, now, escalation)


async def shared_group_list(indexes: GroupIndexes, tables: Tables, query: GroupQuery, partitions: Partitions,
                            now: float, escalation: Escalation) -> dict[str, Any]:
    """:func:`group_list` from the worker's current index (``group_index.py``): a page costs what a page costs."""
    index = await indexes.current(tables, partitions, now, escalation)
    await index.sort(query.sort)
    return _page(index, query, now, escalation)


def merge_group_lists(partials: Iterable[dict[str, Any]], query: GroupQuery) -> dict[str, Any]:
    """The app's answer: ``{"groups", "count", "total", "by_status", "next"}``.

    ``total`` and ``by_status`` count the matching groups of all pages; ``next`` is the ``after=``
    of the following page, None on a page that is not full.
    """
    partials = list(partials)
    groups = heapq.nlargest(query.limit, (group for partial in partials for group in partial["groups"]),
                            key=query.order)
    by_status = {status: sum(partial["by_status"].get(status, 0) for partial in partials) for status in SHOWN}
    total = by_status[query.status] if query.status else sum(
        by_status[status] for status in ("unresolved", "resolved", "ignored"))  # each group holds one of these
    following = next_cursor(query, groups[-1]) if len(groups) == query.limit else None
    return {"groups": groups, "count": len(groups), "total": total, "by_status": by_status, "next": following}


def group_with_detail(tables: Tables, service: str, fingerprint: str, partitions: Partitions, now: float,
                      escalation: Escalation) -> dict[str, Any] | None:
    """This worker's partial for one group: None unless it holds the group, else its detail.

    Besides what the API shows: ``partition``, the group's home partition (its commands go to
    that partition of the command topic), and ``commands_applied``, the last command offset its
    state applied per partition (a PATCH waits for its own).
    """
    cell = tables.error_groups.get(state_key(service, fingerprint))
    if not cell or not answers_for(cell, partitions):
        return None
    state = _state(tables, cell)
    events = recent_errors(tables, ErrorQuery(service=public_name(service), fingerprint=fingerprint,
                                              limit=EVENTS_SHOWN), partitions)
    return {
        **_listed(cell, state, now, escalation),
        **group_detail(state, first_seen=epoch_of(cell["first_seen"]), now=now, escalation=escalation),
        "events": events, "partition": home_of(cell),
        "commands_applied": (state or {}).get(COMMANDS_APPLIED, {}),
    }


def merge_group_detail(partials: Iterable[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The group from whichever worker holds it (None: no worker does)."""
    return next((partial for partial in partials if partial is not None), None)
