"""Partial answers one worker gives for the partitions it owns, by name, for the cluster fan-out."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from logmonitor.alerts.listing import AlertQuery, active_alerts, alert_history
from logmonitor.alerts.rules import AlertConfig
from logmonitor.pipeline.native_shape import OPTIONAL_TEXT_LIMIT
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.group_states import split_group_id
from logmonitor.read import group_triage, queries, releases
from logmonitor.read.group_index import GroupIndexes
from logmonitor.settings import Settings
from logmonitor.web.errors import BadParameter
from logmonitor.web.params import parse_time, query_int, query_level, query_time, text_param
from logmonitor.window import WINDOW_SECONDS

__all__ = ["PARTIALS", "Partial", "TableState", "alert_query", "answer_of", "error_query"]


class TableState(Protocol):
    """What a partial reads: a worker's tables and settings (``server/context.py``'s ``AppContext`` is one)."""

    @property
    def tables(self) -> Tables:
        """The app's tables."""

    @property
    def settings(self) -> Settings:
        """The app's settings."""

    @property
    def alert_config(self) -> AlertConfig:
        """The app's alert rules (the escalating rule's parameters decide the derived status)."""

    @property
    def group_indexes(self) -> GroupIndexes:
        """The worker's derived view of its error groups, shared by the requests of the groups list."""

Partial = Callable[[TableState, Mapping[str, str], queries.Partitions], Any]
"""A partial's answer, or an awaitable of it (:func:`answer_of`)."""


async def answer_of(partial: Any) -> Any:
    """The answer of a partial that may be computed in slices on the loop (an awaitable)."""
    return await partial if inspect.isawaitable(partial) else partial


def error_query(
    query: Mapping[str, str], *, service: str | None = None, default_limit: int = 100
) -> queries.ErrorQuery:
    """The validated filters of ``/api/v1/logs/errors``."""
    since, until = query_time(query, "since"), query_time(query, "until")
    if since and until and since > until:
        raise BadParameter("since must not be after until")
    return queries.ErrorQuery(
        service=service or text_param(query, "service"),
        level=query_level(query),
        since=since,
        until=until,
        q=text_param(query, "q"),
        limit=query_int(query, "limit", default_limit, 1, 1000),
        trace_id=text_param(query, "trace_id", OPTIONAL_TEXT_LIMIT),
        request_id=text_param(query, "request_id", OPTIONAL_TEXT_LIMIT),
    )


def _errors(context: TableState, query: Mapping[str, str], partitions: queries.Partitions) -> Any:
    return queries.recent_errors(context.tables, error_query(query), partitions)


def _groups(context: TableState, query: Mapping[str, str], partitions: queries.Partitions) -> Any:
    limit = query_int(query, "limit", 100, 1, 1000)
    return queries.groups(context.tables, text_param(query, "service"), limit, partitions)


def _triage(context: TableState, query: Mapping[str, str], partitions: queries.Partitions) -> Any:
    escalation = group_triage.escalation_of(context.alert_config)
    return group_triage.shared_group_list(context.group_indexes, context.tables, group_triage.group_query(query),
                                          partitions, time.time(), escalation)


def _group(context: TableState, query: Mapping[str, str], partitions: queries.Partitions) -> Any:
    names = split_group_id(query.get("id", ""))
    if names is None:
        raise BadParameter("id must be a group id as GET /api/v1/logs/groups lists them")
    escalation = group_triage.escalation_of(context.alert_config)
    return group_triage.group_with_detail(context.tables, *names, partitions, time.time(), escalation)


def _releases(context: TableState, query: Mapping[str, str], partitions: queries.Partitions) -> Any:
    escalation = group_triage.escalation_of(context.alert_config)
    return releases.release_partial(context.group_indexes, context.tables, releases.release_query(query), partitions,
                                    time.time(), escalation)


def _counts(context: TableState, query: Mapping[str, str], partitions: queries.Partitions) -> Any:
    now = time.time()
    since = parse_time(query["since"], "since") if query.get("since") else now - 3600
    until = parse_time(query["until"], "until") if query.get("until") else now + WINDOW_SECONDS
    return queries.window_counts(context.tables, since, until, retention=context.settings.window_retention,
                                 service=text_param(query, "service"), partitions=partitions)


def _summary(context: TableState, query: Mapping[str, str], partitions: queries.Partitions) -> Any:
    tables = context.tables
    return {"profiles": queries.profiles(tables, partitions),
            "invalid_records": queries.invalid_total(tables, partitions)}


def alert_query(query: Mapping[str, str]) -> AlertQuery:
    """The validated filters of ``/api/v1/alerts``."""
    status = text_param(query, "status")
    if status not in (None, "firing", "resolved"):
        raise BadParameter(f"status must be firing or resolved, got {status[:40]!r}")
    return AlertQuery(status=status, rule=text_param(query, "rule"), service=text_param(query, "service"),
                      limit=query_int(query, "limit", 100, 1, 1000))


def _alerts(context: TableState, query: Mapping[str, str], partitions: queries.Partitions) -> Any:
    filters = alert_query(query)
    tables = context.tables
    return {"alerts": alert_history(tables, filters, partitions), "active": active_alerts(tables, filters, partitions)}


PARTIALS: dict[str, Partial] = {
    "errors": _errors, "groups": _groups, "counts": _counts, "summary": _summary, "alerts": _alerts,
    "triage": _triage, "group": _group, "releases": _releases,
}
