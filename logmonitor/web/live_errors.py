"""New errors as they are routed, for Server-Sent Events: one consumer of the errors topic per worker.

Every worker reads all partitions of the errors topic (no consumer group), so an SSE
client sees every new error whichever worker it is connected to.

aiokafka never raises when the broker goes away or the topic is deleted: its consumer retries
quietly forever, and a recreated topic stays unassigned for minutes. So the feed asks the broker
every ``CHECK_SECONDS`` whether the topic is still there and assigned. When it is not, or the
consumer raises, the feed turns ``reconnecting``: open streams are told so and ended (clients
reconnect and fill the gap from the API), and a new consumer is started after a backoff. While
only the broker does not answer, the consumer is kept: it reconnects by itself, where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from logmonitor.settings import Settings

__all__ = [
    "CONNECTING", "LIVE", "RECONNECTING", "FeedClosed", "FeedFull", "LiveError", "LiveErrors", "Subscription",
    "errors_feed", "live_error",
]

logger = logging.getLogger(__name__)

CONNECTING, LIVE, RECONNECTING = "connecting", "live", "reconnecting"
CHECK_SECONDS = 5.0
BROKER_TIMEOUT = 10.0
BACKOFF_SECONDS = (1.0, 15.0)  # first and longest wait before a new consumer
_QUEUE_BOUND = 1000


class FeedFull(Exception):
    """Every place for a live-feed client is taken."""


class FeedClosed(Exception):
    """The worker is stopping: its feed takes no new clients."""


class _FeedBroken(Exception):
    """The consumer no longer reads the errors topic, though it did not raise."""


_EXPECTED = (_FeedBroken, KafkaError, OSError, asyncio.TimeoutError)  # no traceback for these


class FeedConsumer(Protocol):
    """The part of :class:`aiokafka.AIOKafkaConsumer` the feed uses."""

    async def start(self) -> None:
        """Connect."""

    async def stop(self) -> None:
        """Disconnect."""

    async def topics(self) -> set[str]:
        """The topics the broker has now (a metadata request)."""

    def subscribe(self, topics: list[str]) -> None:
        """Read all partitions of ``topics``."""

    def subscription(self) -> set[str]:
        """The topics subscribed to."""

    def assignment(self) -> set[Any]:
        """The partitions being read."""

    async def seek_to_end(self) -> Any:
        """Read only records written from now on."""

    async def getmany(self, *, timeout_ms: int) -> dict[Any, list[Any]]:
        """The records fetched since the last call, per partition."""


@dataclass(frozen=True)
class LiveError:
    """One new error for the streams: its service and level (for their filters) and its JSON, on one line."""

    service: object
    level: object
    data: bytes


def live_error(value: bytes | None) -> LiveError | None:
    """The error a value of the errors topic holds, serialised again; None for a value that is not a JSON object.

    Anyone who may write to the topic writes its values: sending them verbatim would let a value
    with line breaks forge Server-Sent Event fields, so what is sent is what orjson wrote.
    """
    if value is None:
        return None
    try:
        record = orjson.loads(value)
        return LiveError(record.get("service"), record.get("level"), orjson.dumps(record)) \
            if isinstance(record, dict) else None
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None


class Subscription:
    """One client's view of the feed: new errors and feed states (str), in order."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.queue: asyncio.Queue[LiveError | str] = asyncio.Queue(maxsize=_QUEUE_BOUND)

    def put(self, item: LiveError | str) -> None:
        """Queue ``item``; a slow client loses its oldest, never blocks the others."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(item)


class LiveErrors:
    """Fans the errors topic out to at most ``max_subscribers``; the consumer runs while anyone listens."""

    def __init__(self, topic: str, open_consumer: Callable[[], FeedConsumer], max_subscribers: int) -> None:
        self._topic = topic
        self._open_consumer = open_consumer
        self._max_subscribers = max_subscribers
        self._subscribers: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.state = CONNECTING

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        """A subscription to the feed until the context exits.

        Raises:
            FeedClosed: the feed was closed (the worker is stopping).
            FeedFull: ``max_subscribers`` are subscribed already.
        """
        if self._closed:
            raise FeedClosed("this worker is stopping; connect again to reach another")
        if len(self._subscribers) >= self._max_subscribers:
            raise FeedFull(f"this worker serves at most {self._max_subscribers} live-feed clients at a time")
        subscription = Subscription(self.state)
        self._subscribers.add(subscription)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    def close(self) -> None:
        """End every open stream and take no new one: the worker is stopping.

        Each stream is told ``reconnecting`` and ends, as when the feed is lost, so its client
        reconnects (to another worker) and fills the gap from the API. Called when the web server
        starts shutting down: an open stream would otherwise hold the worker's exit until its
        client left.
        """
        self._closed = True
        self.state = RECONNECTING
        for subscription in self._subscribers:
            subscription.put(RECONNECTING)
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        failures = 0
        while self._subscribers:
            try:
                await self._consume()
            except Exception as error:  # whatever stopped it, the clients must know and a new consumer start
                first = self.state != RECONNECTING
                failures = 0 if first else failures + 1
                delay = min(BACKOFF_SECONDS[0] * 2 ** failures, BACKOFF_SECONDS[1])
                level = logging.WARNING if first else logging.DEBUG  # one line per outage, not per attempt
                logger.log(level, "live error feed lost (%s: %s); reconnecting in %.1f s",
                           type(error).__name__, error, delay, exc_info=not isinstance(error, _EXPECTED))
                self._set_state(RECONNECTING)
                await asyncio.sleep(delay)
            else:
                self._set_state(CONNECTING)  # nobody listens: the next subscriber starts afresh

    async def _consume(self) -> None:
        consumer = self._open_consumer()
        try:
            await asyncio.wait_for(consumer.start(), BROKER_TIMEOUT)
            await self._check(consumer)
            consumer.subscribe([self._topic])
            await self._assigned(consumer)
            await asyncio.wait_for(consumer.seek_to_end(), BROKER_TIMEOUT)
            self._live()
            loop = asyncio.get_running_loop()
            checked = loop.time()
            while self._subscribers:
                batches = await consumer.getmany(timeout_ms=1000)
                self._publish(record.value for records in batches.values() for record in records)
                if loop.time() - checked >= CHECK_SECONDS:
                    await self._watch(consumer)
                    checked = loop.time()
        finally:
            await _stop(consumer)

    async def _watch(self, consumer: FeedConsumer) -> None:
        """Check a running consumer: while the broker does not answer, it reconnects by itself and keeps its place."""
        try:
            await self._check(consumer)
        except (KafkaError, asyncio.TimeoutError) as error:
            if self.state == LIVE:
                logger.warning("live error feed lost (%s: %s); waiting for the broker", type(error).__name__, error)
            self._set_state(RECONNECTING)
        else:
            self._live()

    def _live(self) -> None:
        if self.state == RECONNECTING:
            logger.warning("live error feed reading %s again", self._topic)
        self._set_state(LIVE)

    async def _check(self, consumer: FeedConsumer) -> None:
        """Raise unless the broker answers, has the topic, and the consumer reads it."""
        if self._topic not in await asyncio.wait_for(consumer.topics(), BROKER_TIMEOUT):
            raise _FeedBroken(f"the topic {self._topic} does not exist")
        if consumer.subscription() and not consumer.assignment():
            raise _FeedBroken(f"no partition of {self._topic} is assigned")

    async def _assigned(self, consumer: FeedConsumer) -> None:
        async with asyncio.timeout(BROKER_TIMEOUT):
            while not consumer.assignment():  # noqa: ASYNC110 (aiokafka has no event for a new assignment)
                await asyncio.sleep(0.05)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            for subscription in self._subscribers:
                subscription.put(state)

    def _publish(self, values: Iterable[bytes | None]) -> None:
        for value in values:
            if (error := live_error(value)) is None:
                logger.debug("live error feed: a value of %s is not a JSON object; not sent", self._topic)
                continue
            for subscription in self._subscribers:
                subscription.put(error)


async def _stop(consumer: FeedConsumer) -> None:
    """Stop ``consumer``, though aiokafka 0.14 may raise a CancelledError meant for none of ours.

    Its fetcher's ``close()`` cancels its in-flight requests and awaits them without catching
    their CancelledError (seen with the broker stopped).
    """
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        logger.debug("aiokafka's consumer.stop() was interrupted by its own cancelled request")


def errors_feed(settings: Settings) -> LiveErrors:
    """The feed of the errors topic ``settings`` name, for at most ``LOGMONITOR_SSE_MAX_CLIENTS`` streams."""
    def errors_topic_consumer() -> FeedConsumer:
        consumer: FeedConsumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers, group_id=None, auto_offset_reset="latest",
            enable_auto_commit=False, fetch_max_wait_ms=100, **settings.security.aiokafka_options(),
        )
        return consumer

    return LiveErrors(settings.errors_topic, errors_topic_consumer, settings.sse_max_clients)
