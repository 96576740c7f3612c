"""The housekeeping tick: alert evaluation, group and service retention, per source partition, by its owner.

Tables may only be written while handling an event of the partition the write belongs to, and
time-driven work (a service gone silent, an incident going quiet, a group ageing out) has no
log record to ride on. So every ``LOGMONITOR_ALERT_INTERVAL`` each worker sends one empty tick
to each partition of the ticks topic it owns; the ticks topic is co-partitioned with
``application-logs``, so the owner of partition *p* handles tick *p* and writes *p*'s state.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from faust import App

from logmonitor.alerts.evaluate import evaluate
from logmonitor.alerts.observe import LOOKBACK, PartitionView, partition_views
from logmonitor.engine.current_event import writing_as_handler_of
from logmonitor.metrics import ALERTS_PUBLISHED
from logmonitor.pipeline.tables.alert_state import incident_key
from logmonitor.pipeline.tables.cell_table import discard
from logmonitor.pipeline.tables.expiry import drop_expired_windows, drop_unseen_groups, drop_unseen_services
from logmonitor.server.context import AppContext
from logmonitor.window import WINDOW_SECONDS

__all__ = ["Housekeeping", "add_housekeeping"]


class Housekeeping:
    """Alert evaluation and retention for the source partitions this worker owns, one tick at a time."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._longest_window = max([LOOKBACK, *(rule.window.total_seconds() for rule in context.alert_config.rules)])

    async def send_ticks(self) -> None:
        """One tick to each partition this worker owns."""
        for partition in sorted(self._context.owned_partitions() or ()):
            await self._context.topics.ticks.send(value=b"", partition=partition)

    def _drop_unseen(self, view: PartitionView, partition: int, now: float) -> None:
        """Drop the partition's unseen services (with their alert state and metric series), then its unseen groups."""
        context = self._context
        tables, settings = context.tables, context.settings
        expired = drop_unseen_services(tables, view.profiles, view.all_groups(), partition, settings.service_retention,
                                       now)
        for service in expired:
            del view.profiles[service]
            view.groups.pop(service, None)
            context.service_labels.forget(service)
            for rule in context.alert_config.rules:
                discard(tables.alert_state, incident_key(rule.name, service))
        drop_unseen_groups(tables, view.all_groups(), settings.group_retention, now)

    async def handle_ticks(self, events: list[Any], now: float) -> None:
        """Evaluate the alert rules and drop unseen services and groups of each ticked partition; publish alerts.

        One scan of the tables for all the partitions, then a partition at a time, giving the loop back
        after the scan and between partitions (at 100,000 groups the scan and all eight held it about
        1 s in one piece). So the router may write cells after the scan read them: what is dropped is
        checked against the tables first (``expiry.py``), and an evaluation that saw a cell before its
        last write sees the rest at the next tick.
        """
        context = self._context
        latest = {event.message.partition: event for event in events}
        since = now // WINDOW_SECONDS * WINDOW_SECONDS - self._longest_window
        views = partition_views(context.tables, latest, since=since)
        for partition, event in sorted(latest.items()):
            await asyncio.sleep(0)  # after the scan, and after each partition
            with writing_as_handler_of(event):
                self._drop_unseen(views[partition], partition, now)
                alerts = evaluate(context.alert_config, context.tables, partition, views[partition], now)
            for alert in alerts:
                await context.topics.alerts.send(key=alert["service"].encode(), value=orjson.dumps(alert))
                ALERTS_PUBLISHED.labels(alert["rule"], alert["status"]).inc()

    def sweep_windows(self) -> None:
        """Drop the windows past the retention, also those recovered from the changelog."""
        drop_expired_windows(self._context.tables.log_counts, self._context.settings.window_retention)


def add_housekeeping(app: App, context: AppContext) -> Housekeeping:
    """Give ``app`` the tick timer, the ticks agent and the window sweep."""
    keeper = Housekeeping(context)

    async def send_ticks() -> None:
        await keeper.send_ticks()

    async def housekeeping(stream: Any) -> None:
        """Handle ticks in small batches (one scan of the tables per batch)."""
        async for events in stream.take_events(64, within=0.1):
            await keeper.handle_ticks(list(events), time.time())

    async def sweep_windows() -> None:
        keeper.sweep_windows()

    app.timer(interval=context.settings.alert_interval.total_seconds())(send_ticks)
    app.agent(context.topics.ticks, concurrency=1)(housekeeping)
    app.timer(interval=context.settings.window_sweep_interval.total_seconds())(sweep_windows)
    return keeper
