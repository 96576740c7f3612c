"""Hand alerts to their notifiers without ever blocking the pipeline; retry with backoff.

Each notifier has its own bounded queue and sender task, so a receiver that is down delays
only its own deliveries: never the router, never the other notifiers. When a queue is full
the oldest waiting alert is dropped and counted (the alert itself stays in the alerts topic
and at ``/api/v1/alerts``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from logmonitor.alerts.notifiers import DeliveryError, Notifier
from logmonitor.alerts.rules import Retries
from logmonitor.metrics import NOTIFICATIONS

__all__ = ["Deliveries"]

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000


class Deliveries:
    """One queue and one sender per notifier."""

    def __init__(self, notifiers: Mapping[str, Notifier], retries: Retries) -> None:
        self._notifiers = dict(notifiers)
        self._retries = retries
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {
            name: asyncio.Queue(maxsize=QUEUE_SIZE) for name in notifiers
        }

    def submit(self, alert: dict[str, Any]) -> None:
        """Queue ``alert`` for each notifier it names; never waits."""
        for name in alert.get("notify", []):
            queue = self._queues.get(name)
            if queue is None:
                continue
            if queue.full():
                queue.get_nowait()
                NOTIFICATIONS.labels(name, "dropped").inc()
                log.warning("notifier %s is %d alerts behind; dropped the oldest", name, QUEUE_SIZE)
            queue.put_nowait(alert)

    async def run(self) -> None:
        """Send forever: one task per notifier."""
        await asyncio.gather(*(self._drain(name) for name in self._notifiers))

    async def _drain(self, name: str) -> None:
        notifier, queue = self._notifiers[name], self._queues[name]
        while True:
            alert = await queue.get()
            try:
                await self._deliver(notifier, alert)
            except Exception:  # a bug in one notifier must not stop the others' deliveries
                NOTIFICATIONS.labels(name, "failed").inc()
                log.exception("notifier %s failed on alert %s", name, alert.get("id"))

    async def _deliver(self, notifier: Notifier, alert: dict[str, Any]) -> None:
        for attempt in range(1, self._retries.attempts + 1):
            try:
                await notifier.send(alert)
            except DeliveryError as error:
                if attempt == self._retries.attempts:
                    NOTIFICATIONS.labels(notifier.name, "failed").inc()
                    log.error("alert %s not delivered by %s after %d attempts: %s",
                              alert["id"], notifier.name, attempt, error)
                    return
                NOTIFICATIONS.labels(notifier.name, "retried").inc()
                log.warning("alert %s: %s; retrying in %.1f s", alert["id"], error, self._retries.wait(attempt))
                await asyncio.sleep(self._retries.wait(attempt))
            else:
                NOTIFICATIONS.labels(notifier.name, "sent").inc()
                return
