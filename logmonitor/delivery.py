"""A producer that makes every undelivered message visible: counted by topic and logged.

Faust logs a refused changelog message as a warning and carries on; the messages the router
sends itself (forwarded errors, dead letters) fail without a word. Either way the next commit
moves past their source records, so what they carried is missing until an operator acts:
``logmonitor_send_failures_total`` on ``/metrics`` says that it happened, and where.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from functools import partial
from typing import Any, cast

from aiokafka.structs import RecordMetadata
from faust.transport.drivers import aiokafka as faust_aiokafka

from logmonitor.metrics import SEND_FAILURES

__all__ = ["CheckedProducer"]

log = logging.getLogger(__name__)


class CheckedProducer(faust_aiokafka.Producer):
    """Faust's aiokafka producer, counting and logging each message that is not delivered."""

    async def send(self, topic: str, key: bytes | None, value: bytes | None, partition: int | None,
                   timestamp: float | None, headers: Any, *, transactional_id: str | None = None,
                   ) -> Awaitable[RecordMetadata]:
        """Schedule a message, as Faust does; its delivery is checked when it completes."""
        sent = await super().send(topic, key, value, partition, timestamp, headers, transactional_id=transactional_id)
        delivery = cast("asyncio.Future[RecordMetadata]", sent)
        delivery.add_done_callback(partial(_check, topic))  # aiokafka's send hands back its future
        return delivery


def _check(topic: str, delivery: asyncio.Future[RecordMetadata]) -> None:
    failure = None if delivery.cancelled() else delivery.exception()
    if failure is not None:
        SEND_FAILURES.labels(topic).inc()
        log.error("a message for %s was not delivered, what it carried is missing: %r", topic, failure)
