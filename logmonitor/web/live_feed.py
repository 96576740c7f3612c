"""A live feed of one topic for Server-Sent Events: one consumer per worker, running while anyone follows it.

The feed reads all partitions of its topic from the end (no consumer group), so a client sees every
new record whichever worker it is connected to. The consumer starts with the first subscriber and
stops within a second after the last one leaves: an idle worker pays nothing. ``web/live_errors.py``
and ``web/live_records.py`` say what a feed reads and how a message becomes records.

Each subscriber has a filter, applied as records arrive, and a queue of the records it wants, bounded
by ``QUEUE_RECORDS`` and ``QUEUE_BYTES``: a client that does not keep up loses the records that do not
fit, counted; where they are missing its queue holds a :class:`Skipped` with their number, so the
stream tells the client. Records are decoded, filtered and serialised once for all subscribers, a few
hundred at a time between turns of the event loop (``pipeline/pacer.py``).

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
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from logmonitor import compact_json
from logmonitor.ingest.decoded import Rejected
from logmonitor.metrics import LIVE_FEED_FOLLOWERS, LIVE_FEED_READING, LIVE_FEED_SKIPPED
from logmonitor.pipeline.pacer import Pacer, size_of
from logmonitor.settings import Settings

__all__ = [
    "CONNECTING", "LIVE", "QUEUE_BYTES", "QUEUE_RECORDS", "RECONNECTING", "Decoded", "FeedClosed", "FeedConsumer",
    "FeedFull", "Item", "LiveFeed", "Skipped", "Subscription", "Wants", "feed_consumer",
]

logger = logging.getLogger(__name__)

CONNECTING, LIVE, RECONNECTING = "connecting", "live", "reconnecting"
CHECK_SECONDS = 5.0
BROKER_TIMEOUT = 10.0
BACKOFF_SECONDS = (1.0, 15.0)  # first and longest wait before a new consumer
QUEUE_RECORDS, QUEUE_BYTES = 1000, 4 * 1024 * 1024  # what one client may have waiting
FETCH_RECORDS = 5000  # what one fetch brings at most (as the router's)
MAX_BEHIND = 20_000  # records the feed may be behind the end of its topic (about a second of a busy router)


class FeedFull(Exception):
    """Every place for a live-feed client is taken."""


class FeedClosed(Exception):
    """The worker is stopping: its feed takes no new clients."""


class _FeedBroken(Exception):
    """The consumer no longer reads the topic, though it did not raise."""


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

    async def getmany(self, *, timeout_ms: int, max_records: int | None = None) -> dict[Any, list[Any]]:
        """The records fetched since the last call, per partition."""

    def highwater(self, partition: Any) -> int | None:
        """The offset the partition's next record will have, as the last fetch said."""


Decoded = Iterator[tuple[bytes | Rejected | None, dict[str, Any] | None]]
"""What a message holds: each record's raw value (for pacing) and the record to show (None: not one to show)."""
Wants = Callable[[dict[str, Any]], bool]
"""A subscriber's filter: whether it wants a record (never raises, whatever the record holds)."""


@dataclass(frozen=True)
class Skipped:
    """Records a client was not sent (it, or the feed, did not keep up); they are missing where this stands."""

    count: int


Item = bytes | str | Skipped
"""What a subscriber receives: a record as one line of JSON, a feed state, or a gap."""


def _everything(_record: dict[str, Any]) -> bool:
    return True


class Subscription:
    """One client's view of the feed: the records it wants, feed states and gaps, in order."""

    def __init__(self, feed: str, state: str, wants: Wants) -> None:
        self.state = state
        self.wants = wants
        self._skipped_total = LIVE_FEED_SKIPPED.labels(feed)
        self._queue: asyncio.Queue[Item] = asyncio.Queue()  # bounded by put_record; states are few
        self._records = self._bytes = self._skipped = 0
        self._ended = False

    def put_record(self, data: bytes) -> None:
        """Queue a record's JSON; beyond the bounds it is counted as skipped instead: never blocks the others."""
        if self._ended:
            return
        if self._records >= QUEUE_RECORDS or self._bytes + len(data) > QUEUE_BYTES:
            self._skipped += 1
            self._skipped_total.inc()
            return
        if self._skipped:
            self._queue.put_nowait(Skipped(self._skipped))
            self._skipped = 0
        self._queue.put_nowait(data)
        self._records += 1
        self._bytes += len(data)

    def put_gap(self, count: int) -> None:
        """``count`` records were not read for anyone: the client is told where, as of records it missed."""
        if self._ended:
            return
        self._skipped += count
        if self._queue.empty():  # told now (a client waiting for its next item wakes up), else after what is queued
            self._queue.put_nowait(Skipped(self._skipped))
            self._skipped = 0

    def put_state(self, state: str) -> None:
        """Queue a feed state; after ``reconnecting`` the stream ends, so nothing more is queued."""
        if not self._ended:
            self._queue.put_nowait(state)
            self._ended = state == RECONNECTING

    async def get(self) -> Item:
        """The next item; a gap as soon as the client has caught up with what was queued before it."""
        if self._skipped and self._queue.empty():
            skipped, self._skipped = self._skipped, 0
            return Skipped(skipped)
        return self._taken(await self._queue.get())

    def take(self, limit: int) -> list[Item]:
        """Up to ``limit`` items queued now, without waiting (to write them at once)."""
        return [self._taken(self._queue.get_nowait()) for _ in range(min(limit, self._queue.qsize()))]

    def _taken(self, item: Item) -> Item:
        if isinstance(item, bytes):
            self._records -= 1
            self._bytes -= len(item)
        return item


class LiveFeed:
    """Fans ``topic`` out to at most ``max_subscribers``; the consumer runs while anyone listens.

    Args:
        name: the feed's name in log lines and metric labels (``errors``, ``records``).
        topic: the topic read.
        open_consumer: a new consumer, not started.
        decode: the records one message holds (``Decoded``), given the time to judge timestamps by.
        max_subscribers: the most clients at a time.
    """

    def __init__(self, name: str, topic: str, open_consumer: Callable[[], FeedConsumer],
                 decode: Callable[[Any, float], Decoded], max_subscribers: int) -> None:
        self.name = name
        self._topic = topic
        self._open_consumer = open_consumer
        self._decode = decode
        self._max_subscribers = max_subscribers
        self._subscribers: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._lagged = False
        self.state = CONNECTING

    @contextlib.asynccontextmanager
    async def subscribe(self, wants: Wants = _everything) -> AsyncIterator[Subscription]:
        """A subscription to the records ``wants`` accepts, until the context exits.

        Raises:
            FeedClosed: the feed was closed (the worker is stopping).
            FeedFull: ``max_subscribers`` are subscribed already.
        """
        if self._closed:
            raise FeedClosed("this worker is stopping; connect again to reach another")
        if len(self._subscribers) >= self._max_subscribers:
            raise FeedFull(f"this worker serves at most {self._max_subscribers} clients of its live {self.name} "
                           "stream at a time")
        subscription = Subscription(self.name, self.state, wants)
        self._subscribers.add(subscription)
        LIVE_FEED_FOLLOWERS.labels(self.name).set(len(self._subscribers))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)
            LIVE_FEED_FOLLOWERS.labels(self.name).set(len(self._subscribers))

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
            subscription.put_state(RECONNECTING)
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
                logger.log(level, "live %s feed lost (%s: %s); reconnecting in %.1f s", self.name,
                           type(error).__name__, error, delay, exc_info=not isinstance(error, _EXPECTED))
                self._set_state(RECONNECTING)
                await asyncio.sleep(delay)
            else:
                self._set_state(CONNECTING)  # nobody listens: the next subscriber starts afresh

    async def _consume(self) -> None:
        consumer = self._open_consumer()
        LIVE_FEED_READING.labels(self.name).set(1)
        try:
            await asyncio.wait_for(consumer.start(), BROKER_TIMEOUT)
            await self._check(consumer)
            consumer.subscribe([self._topic])
            await self._assigned(consumer)
            await asyncio.wait_for(consumer.seek_to_end(), BROKER_TIMEOUT)
            self._lagged = False
            self._live()
            loop = asyncio.get_running_loop()
            checked = loop.time()
            while self._subscribers:
                batches = await consumer.getmany(timeout_ms=1000, max_records=FETCH_RECORDS)
                if (behind := _behind(consumer, batches)) > MAX_BEHIND:
                    await self._catch_up(consumer, behind + sum(map(len, batches.values())))
                    continue
                await self._publish(message for messages in batches.values() for message in messages)
                if loop.time() - checked >= CHECK_SECONDS:
                    await self._watch(consumer)
                    checked = loop.time()
        finally:
            await _stop(consumer)
            LIVE_FEED_READING.labels(self.name).set(0)

    async def _watch(self, consumer: FeedConsumer) -> None:
        """Check a running consumer: while the broker does not answer, it reconnects by itself and keeps its place."""
        try:
            await self._check(consumer)
        except (KafkaError, asyncio.TimeoutError) as error:
            if self.state == LIVE:
                logger.warning("live %s feed lost (%s: %s); waiting for the broker", self.name,
                               type(error).__name__, error)
            self._set_state(RECONNECTING)
        else:
            self._live()

    def _live(self) -> None:
        if self.state == RECONNECTING:
            logger.warning("live %s feed reading %s again", self.name, self._topic)
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

    async def _catch_up(self, consumer: FeedConsumer, unread: int) -> None:
        """Jump to the end, past ``unread`` records: a feed that lags is no live feed, and it would take the
        router's time to read records nobody sees in time. Every client is told how many it may have missed."""
        level = logging.DEBUG if self._lagged else logging.WARNING  # one line a run of the consumer, not a fetch
        self._lagged = True
        logger.log(level, "live %s feed %d records behind the end of %s: skipped to the end", self.name, unread,
                   self._topic)
        await asyncio.wait_for(consumer.seek_to_end(), BROKER_TIMEOUT)
        LIVE_FEED_SKIPPED.labels(self.name).inc(unread * len(self._subscribers))
        for subscription in self._subscribers:
            subscription.put_gap(unread)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            for subscription in self._subscribers:
                subscription.put_state(state)

    async def _publish(self, messages: Iterable[Any]) -> None:
        """Decode, filter and queue ``messages``' records, turning the event loop over every few hundred."""
        pacer = Pacer()
        for message in messages:
            for value, record in self._decode(message, pacer.now):
                if record is not None:
                    self._fan_out(record)
                if pacer.done(size_of(value)):
                    await asyncio.sleep(0)

    def _fan_out(self, record: dict[str, Any]) -> None:
        data = None  # serialised once, for the first subscriber that wants it
        for subscription in self._subscribers:
            if subscription.wants(record):
                if data is None:
                    data = compact_json.dumps(record)
                subscription.put_record(data)


def _behind(consumer: FeedConsumer, batches: dict[Any, list[Any]]) -> int:
    """How many records of the fetched partitions follow the last one fetched."""
    ends = ((consumer.highwater(partition), messages[-1].offset) for partition, messages in batches.items() if messages)
    return sum(end - last - 1 for end, last in ends if end is not None)


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


def feed_consumer(settings: Settings) -> Callable[[], FeedConsumer]:
    """A maker of feed consumers for the cluster ``settings`` name: no group, from the end, no commits."""
    def open_consumer() -> FeedConsumer:
        consumer: FeedConsumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers, group_id=None, auto_offset_reset="latest",
            enable_auto_commit=False, fetch_max_wait_ms=100, **settings.security.aiokafka_options(),
        )
        return consumer

    return open_consumer
