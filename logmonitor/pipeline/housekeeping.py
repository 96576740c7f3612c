"""The housekeeping tick: alert evaluation, group and service retention, per source partition, by its owner.

Tables may only be written while handling an event of the partition the write belongs to, and
time-driven work (a service gone silent, an incident going quiet, a group ageing out) has no
log record to ride on. So every ``LOGMONITOR_ALERT_INTERVAL`` each worker sends one empty tick
to each partition of the ticks topic it owns; the ticks topic is co-partitioned with
``application-logs``, so the owner of partition *p* handles tick *p* and writes *p*'s state.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from logmonitor.alerts.evaluate import evaluate
from logmonitor.alerts.observe import LOOKBACK, PartitionView, partition_views
from logmonitor.engine.current_event import acting_for
from logmonitor.metrics import ALERTS_PUBLISHED
from logmonitor.pipeline.service_labels import service_labels
from logmonitor.pipeline.tables.alert_state import alert_state, incident_key
from logmonitor.pipeline.tables.expiry import drop_unseen_groups, drop_unseen_services
from logmonitor.server.app import alert_config, app, settings
from logmonitor.server.assignment import owned_partitions
from logmonitor.server.topics import alerts_topic, ticks_topic
from logmonitor.window import WINDOW_SECONDS

__all__ = ["housekeeping", "send_ticks"]

_LONGEST_WINDOW = max([LOOKBACK, *(rule.window.total_seconds() for rule in alert_config.rules)])


@app.timer(interval=settings.alert_interval.total_seconds())  # type: ignore[untyped-decorator]
async def send_ticks() -> None:
    """One tick to each partition this worker owns."""
    for partition in sorted(owned_partitions() or ()):
        await ticks_topic.send(value=b"", partition=partition)


def _drop_unseen(view: PartitionView, partition: int, now: float) -> None:
    """Drop the partition's unseen services (with their alert state and metric series), then its unseen groups."""
    expired = drop_unseen_services(view.profiles, view.groups, partition, now)
    for service in expired:
        del view.profiles[service]
        service_labels.forget(service)
        for rule in alert_config.rules:
            alert_state.pop(incident_key(rule.name, service), None)
    view.groups = [group for group in view.groups if group["service"] not in expired]
    drop_unseen_groups(view.groups, now)


async def handle_ticks(events: list[Any], now: float) -> None:
    """Evaluate the alert rules and drop unseen services and groups for each ticked partition; publish the alerts."""
    latest = {event.message.partition: event for event in events}
    since = now // WINDOW_SECONDS * WINDOW_SECONDS - _LONGEST_WINDOW
    views = partition_views(latest, since=since)
    for partition, event in sorted(latest.items()):
        with acting_for(event):
            _drop_unseen(views[partition], partition, now)
            alerts = evaluate(alert_config, partition, views[partition], now)
        for alert in alerts:
            await alerts_topic.send(key=alert["service"].encode(), value=orjson.dumps(alert))
            ALERTS_PUBLISHED.labels(alert["rule"], alert["status"]).inc()


@app.agent(ticks_topic, concurrency=1)
async def housekeeping(stream: Any) -> None:
    """Handle ticks in small batches (one scan of the tables per batch)."""
    async for events in stream.take_events(64, within=0.1):
        await handle_ticks(list(events), time.time())
