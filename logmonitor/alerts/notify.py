"""Read ``application-logs-alerts`` and hand each alert to the notifiers its rule names."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from logmonitor.alerts.delivery import Deliveries
from logmonitor.alerts.notifiers import build_notifier
from logmonitor.server.app import alert_config, app
from logmonitor.server.topics import alerts_topic

__all__ = ["deliveries", "notify", "send_notifications"]

log = logging.getLogger(__name__)

deliveries = Deliveries(
    {name: build_notifier(config) for name, config in alert_config.notifiers.items()}, alert_config.retries
)


@app.task  # type: ignore[untyped-decorator]
async def send_notifications() -> None:
    """The notifiers' senders, for the life of the worker."""
    await deliveries.run()


@app.agent(alerts_topic, concurrency=1)
async def notify(stream: Any) -> None:
    """Queue each alert for delivery; the agent never waits for a receiver."""
    async for value in stream:
        try:
            alert = orjson.loads(value)
        except orjson.JSONDecodeError:
            log.warning("skipped a record of the alerts topic that is not JSON")
            continue
        if isinstance(alert, dict) and isinstance(alert.get("notify"), list):
            deliveries.submit(alert)
