"""New errors as they are routed, for Server-Sent Events: one consumer of the errors topic per worker.

Every worker reads all partitions of the errors topic (no consumer group), so an SSE
client sees every new error whichever worker it is connected to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from logmonitor.app import settings

__all__ = ["LiveErrors", "live_errors"]

logger = logging.getLogger(__name__)
_QUEUE_BOUND = 1000


class LiveErrors:
    """Fans the errors topic out to subscriber queues; the consumer runs while anyone listens."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[bytes]] = set()
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[bytes]]:
        """A queue receiving each new error record (JSON bytes) until the context exits."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_QUEUE_BOUND)
        self._subscribers.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._consume())
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            settings.errors_topic, bootstrap_servers=settings.bootstrap_servers, group_id=None,
            auto_offset_reset="latest", enable_auto_commit=False, fetch_max_wait_ms=100,
            **settings.security.aiokafka_options(),
        )
        try:
            await consumer.start()
            while self._subscribers:
                batches = await consumer.getmany(timeout_ms=1000)
                for records in batches.values():
                    for record in records:
                        self._publish(record.value)
        except KafkaError:
            logger.exception("live error feed stopped; subscribers fall back to polling")
        finally:
            await consumer.stop()

    def _publish(self, value: bytes) -> None:
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()  # a slow client loses its oldest, never blocks the others
            queue.put_nowait(value)


live_errors = LiveErrors()
