"""What the agents, timers and views of one app share, made once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logmonitor.alerts.rules import AlertConfig
from logmonitor.pipeline.aggregation import Bounds
from logmonitor.pipeline.service_labels import ServiceLabels
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.read.answer_cache import AnswerCache
from logmonitor.read.group_index import GroupIndexes
from logmonitor.read.queries import Partitions
from logmonitor.server.assignment import owned_partitions
from logmonitor.server.topics import Topics
from logmonitor.settings import Settings
from logmonitor.web.live_feed import LiveFeed

__all__ = ["AppContext", "context_of"]


@dataclass(frozen=True)
class AppContext:
    """One app's settings, alert rules, tables, topics, bounds, metric labels, live feeds and shared answers."""

    app: Any  # the faust.App these belong to
    settings: Settings
    alert_config: AlertConfig
    tables: Tables
    topics: Topics
    bounds: Bounds
    service_labels: ServiceLabels
    errors_feed: LiveFeed  # new errors, for the dashboard and `logmonitor tail --errors`
    records_feed: LiveFeed  # every new record, for `logmonitor tail`
    answers: AnswerCache  # answers views share for a moment (``/api/v1/logs/stats``: 1 s)
    group_indexes: GroupIndexes  # the groups list's derived view, reused while the groups are unchanged

    def owned_partitions(self) -> Partitions:
        """The ``application-logs`` partitions this worker actively processes."""
        return owned_partitions(self.app, self.settings.logs_topic)


def context_of(app: Any) -> AppContext:
    """The context the factory gave ``app`` (a view's ``self.app``)."""
    context: AppContext = app.context
    return context
