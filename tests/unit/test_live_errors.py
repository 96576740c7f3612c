"""The live feed with a fake consumer: states, restarts with backoff, and the cap on clients."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from logmonitor.web import live_errors as feed
from logmonitor.web.live_errors import CONNECTING, LIVE, RECONNECTING, FeedClosed, FeedFull, LiveErrors, Subscription

TOPIC = "errors"


@dataclass
class Record:
    value: bytes


@dataclass
class Broker:
    """What the fake consumers see: whether the topic exists, what is written, what fails."""

    has_topic: bool = True
    written: list[bytes] = field(default_factory=list)
    fetch_error: Exception | None = None
    answers: bool = True
    stop_cancelled: bool = False  # aiokafka 0.14's stop() can raise a CancelledError of its own
    opened: int = 0


class FakeConsumer:
    def __init__(self, broker: Broker) -> None:
        self.broker, self.topics_subscribed, self.read = broker, set[str](), len(broker.written)
        broker.opened += 1

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        if self.broker.stop_cancelled:
            raise asyncio.CancelledError

    async def topics(self) -> set[str]:
        if not self.broker.answers:
            raise KafkaConnectionError("Unable to get cluster metadata over all known brokers")
        return {TOPIC} if self.broker.has_topic else set()

    def subscribe(self, topics: list[str]) -> None:
        self.topics_subscribed = set(topics)

    def subscription(self) -> set[str]:
        return self.topics_subscribed

    def assignment(self) -> set[Any]:
        return {(TOPIC, 0)} if self.topics_subscribed and self.broker.has_topic else set()

    async def seek_to_end(self) -> None:
        self.read = len(self.broker.written)

    async def getmany(self, *, timeout_ms: int) -> dict[Any, list[Any]]:
        await asyncio.sleep(0.005)
        if self.broker.fetch_error is not None:
            raise self.broker.fetch_error
        new, self.read = self.broker.written[self.read:], len(self.broker.written)
        return {(TOPIC, 0): [Record(value) for value in new]} if new else {}


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed, "CHECK_SECONDS", 0.01)
    monkeypatch.setattr(feed, "BACKOFF_SECONDS", (0.01, 0.05))


async def next_item(subscription: Subscription) -> bytes | str:
    """The next feed state, or the next error's data as sent."""
    item = await asyncio.wait_for(subscription.queue.get(), 5)
    return item if isinstance(item, str) else item.data


async def test_a_deleted_topic_ends_live_streams_and_a_new_consumer_reads_it_again(
        caplog: pytest.LogCaptureFixture) -> None:
    broker = Broker()
    live = LiveErrors(TOPIC, lambda: FakeConsumer(broker), 10)
    async with live.subscribe() as subscription:
        assert subscription.state == CONNECTING
        assert await next_item(subscription) == LIVE
        broker.written.append(b'{"n": 1}')
        assert await next_item(subscription) == b'{"n":1}'
        broker.has_topic = False
        assert await next_item(subscription) == RECONNECTING
        await asyncio.sleep(0.2)  # several failed attempts meanwhile
        assert broker.opened > 2 and live.state == RECONNECTING
        async with live.subscribe() as late:
            assert late.state == RECONNECTING
            broker.has_topic = True
            assert await next_item(late) == LIVE
            broker.written.append(b'{"n": 2}')
            assert await next_item(late) == b'{"n":2}'
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == feed.__name__]
    assert [r.getMessage().split(" (")[0] for r in warnings] == ["live error feed lost", "live error feed reading"
                                                                 f" {TOPIC} again"], "one line per outage"
    assert not any(r.exc_info for r in warnings), "an expected failure has no traceback"


async def test_a_consumer_that_raises_is_replaced() -> None:
    broker = Broker()
    live = LiveErrors(TOPIC, lambda: FakeConsumer(broker), 10)
    async with live.subscribe() as subscription:
        assert await next_item(subscription) == LIVE
        broker.fetch_error = KafkaConnectionError("broker gone")
        assert await next_item(subscription) == RECONNECTING
        broker.fetch_error = None
        assert await next_item(subscription) == LIVE


async def test_a_cancelled_error_out_of_aiokafkas_stop_does_not_end_the_feed() -> None:
    broker = Broker(stop_cancelled=True)
    live = LiveErrors(TOPIC, lambda: FakeConsumer(broker), 10)
    async with live.subscribe() as subscription:
        assert await next_item(subscription) == LIVE
        broker.has_topic = False
        assert await next_item(subscription) == RECONNECTING
        broker.has_topic = True
        assert await next_item(subscription) == LIVE


async def test_while_the_broker_does_not_answer_the_feed_is_reconnecting_and_keeps_its_consumer() -> None:
    broker = Broker()
    live = LiveErrors(TOPIC, lambda: FakeConsumer(broker), 10)
    async with live.subscribe() as subscription:
        assert await next_item(subscription) == LIVE
        broker.answers = False
        assert await next_item(subscription) == RECONNECTING
        broker.answers = True
        assert await next_item(subscription) == LIVE
        assert broker.opened == 1, "aiokafka reconnects by itself and keeps its place"


async def test_the_feed_serves_at_most_its_cap_of_clients() -> None:
    broker = Broker()
    live = LiveErrors(TOPIC, lambda: FakeConsumer(broker), 2)
    async with live.subscribe(), live.subscribe():
        with pytest.raises(FeedFull, match="at most 2"):
            async with live.subscribe():
                pass
    async with live.subscribe() as again:
        assert again is not None, "a place frees when a client leaves"


async def test_the_consumer_stops_when_nobody_listens() -> None:
    broker = Broker()
    live = LiveErrors(TOPIC, lambda: FakeConsumer(broker), 2)
    async with live.subscribe() as subscription:
        assert await next_item(subscription) == LIVE
    await asyncio.sleep(0.1)
    assert live.state == CONNECTING and broker.opened == 1


async def test_closing_the_feed_ends_every_stream_and_refuses_new_ones() -> None:
    broker = Broker()
    live = LiveErrors(TOPIC, lambda: FakeConsumer(broker), 10)
    async with live.subscribe() as first, live.subscribe() as second:
        assert await next_item(first) == LIVE and await next_item(second) == LIVE
        live.close()
        assert await next_item(first) == RECONNECTING and await next_item(second) == RECONNECTING
        with pytest.raises(FeedClosed, match="stopping"):
            async with live.subscribe():
                pass
    await asyncio.sleep(0.05)
    assert live.state == RECONNECTING, "a closed feed starts no consumer again"


@pytest.mark.parametrize(("value", "sent"), [
    (b'{"message": "a\\n\\nevent: error\\ndata: forged", "service": "s"}',
     b'{"message":"a\\n\\nevent: error\\ndata: forged","service":"s"}'),
    (b'{\n"service": "s",\r\n"level": "ERROR"}', b'{"service":"s","level":"ERROR"}'),
    (b"not json\n\nevent: error\ndata: forged", None), (b"[1, 2]", None), (b'"text"', None), (None, None),
    (b"\xff\xfe", None),
])
def test_values_of_the_errors_topic_are_sent_as_serialised_on_one_line_or_not_at_all(value: bytes | None,
                                                                                    sent: bytes | None) -> None:
    error = feed.live_error(value)
    assert (error.data if error is not None else None) == sent
    assert error is None or (b"\n" not in error.data and b"\r" not in error.data)


async def test_a_value_that_is_not_a_json_object_is_skipped_and_the_next_one_sent() -> None:
    broker = Broker()
    live = LiveErrors(TOPIC, lambda: FakeConsumer(broker), 10)
    async with live.subscribe() as subscription:
        assert await next_item(subscription) == LIVE
        broker.written += [b"garbage\n\ndata: x", b'{"level": "ERROR"}']
        assert await next_item(subscription) == b'{"level":"ERROR"}'
