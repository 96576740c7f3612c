"""Read ``application-logs-alerts`` and hand each alert to the notifiers its rule names."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from faust import App
from faust.types import TopicT

from logmonitor.alerts.delivery import Deliveries
from logmonitor.alerts.notifiers import build_notifier
from logmonitor.alerts.rules import AlertConfig

__all__ = ["add_notifications"]

log = logging.getLogger(__name__)


def add_notifications(app: App, alerts_topic: TopicT, config: AlertConfig) -> Deliveries:
    """Give ``app`` the agent that queues each alert of ``alerts_topic`` and the task that delivers them."""
    deliveries = Deliveries({name: build_notifier(notifier) for name, notifier in config.notifiers.items()},
                            config.retries)

    async def send_notifications() -> None:
        """The notifiers' senders, for the life of the worker."""
        await deliveries.run()

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

    app.task(send_notifications)
    app.agent(alerts_topic, concurrency=1)(notify)
    return deliveries
