"""A service's releases (``GET /api/v1/logs/releases?service=``), newest first, a page at a time.

Each release: first and last seen and the records and error events counted in it (the service's
release cell, ``triage/releases.py``), the groups first seen in it (``new``: their
``first_release``) and the groups that came back in it (``regressed``: a regression in their
status history names it). A worker answers for the services whose home partition it owns (a
partial, like every per-service answer); :func:`merge_releases` adds the partials up, so the
answer is the same whichever worker is asked. The groups are read from the worker's groups index
(``group_index.py``): the service's selection, not every group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.service_state import releases_key
from logmonitor.read.group_index import GroupIndexes, answers_for
from logmonitor.read.queries import Partitions
from logmonitor.triage.escalation import Escalation
from logmonitor.triage.status import REGRESSION
from logmonitor.web.errors import BadParameter
from logmonitor.web.params import query_int, text_param

__all__ = ["DEFAULT_LIMIT", "MAX_CURSOR", "MAX_LIMIT", "ReleaseQuery", "merge_releases", "release_partial",
           "release_query"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 200
"""A page holds at most as many releases as a service keeps (``SERVICE_RELEASES``)."""
MAX_CURSOR = 300
"""Characters of ``after=``: a first-seen time (at most 40) and a release name (256)."""


@dataclass(frozen=True)
class ReleaseQuery:
    """The service, the page size, and the ``(first_seen, release)`` of the last release of the page before."""

    service: str
    limit: int = DEFAULT_LIMIT
    after: tuple[str, str] | None = None


def release_query(query: Mapping[str, str]) -> ReleaseQuery:
    """The validated parameters of ``GET /api/v1/logs/releases``.

    Raises:
        BadParameter: no service, a name too long, a limit out of 1..200, an ``after`` that is no cursor.
    """
    service = text_param(query, "service")
    if service is None:
        raise BadParameter("service is required: the releases of one service are listed")
    raw = text_param(query, "after", MAX_CURSOR)
    after = None
    if raw is not None:
        first_seen, tilde, release = raw.partition("~")  # a time holds no ~; a release name may
        if not tilde or not 0 < len(first_seen) <= 40 or not release:
            raise BadParameter(f"after must be the next of a page of releases, got {raw[:60]!r}")
        after = first_seen, release
    return ReleaseQuery(service, query_int(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT), after)


async def release_partial(indexes: GroupIndexes, tables: Tables, query: ReleaseQuery, partitions: Partitions,
                          now: float, escalation: Escalation) -> dict[str, dict[str, Any]]:
    """This worker's releases of ``query.service`` (empty unless it owns the service's home partition)."""
    cell = tables.service_state.get(releases_key(query.service))
    if not cell or not answers_for(cell, partitions):
        return {}
    releases = {name: {**counts, "new": 0, "regressed": 0} for name, counts in (cell.get("releases") or {}).items()}
    index = await indexes.current(tables, partitions, now, escalation)
    for key in index.selected("service", query.service)[0]:
        group = index.groups.get(key)
        if group is None:
            continue
        if (first := releases.get(group.cell.get("first_release") or "")) is not None:
            first["new"] += 1
        history = (group.state or {}).get("history") or ()
        for release in {entry.get("release") for entry in history if entry.get("why") == REGRESSION}:
            if (came_back := releases.get(release or "")) is not None:
                came_back["regressed"] += 1
    return releases


def _added(one: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    return {"first_seen": min(one["first_seen"], other["first_seen"]),
            "last_seen": max(one["last_seen"], other["last_seen"]),
            **{field: one[field] + other[field] for field in ("records", "errors", "new", "regressed")}}


def merge_releases(partials: Iterable[dict[str, dict[str, Any]]], query: ReleaseQuery) -> dict[str, Any]:
    """The app's answer: ``{"service", "releases", "count", "total", "next"}``, newest first (by first seen).

    ``next`` is the ``after=`` of the following page, None on the last.
    """
    merged: dict[str, dict[str, Any]] = {}
    for partial in partials:
        for name, release in partial.items():
            merged[name] = _added(merged[name], release) if name in merged else release
    newest = sorted(((release["first_seen"], name) for name, release in merged.items()), reverse=True)
    if query.after is not None:
        newest = [key for key in newest if key < query.after]
    page = newest[:query.limit]
    following = f"{page[-1][0]}~{page[-1][1]}" if len(newest) > query.limit else None
    return {"service": query.service, "releases": [{"release": name, **merged[name]} for _first, name in page],
            "count": len(page), "total": len(merged), "next": following}
