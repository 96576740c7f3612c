"""The live feed with a fake consumer: states, restarts with backoff, the cap on clients, filters and bounds."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from logmonitor.pipeline.pacer import YIELD_EVERY
from logmonitor.web import live_feed as feed
from logmonitor.web.errors import BadParameter
from logmonitor.web.live_errors import error_of, errors_in
from logmonitor.web.live_feed import (
    CONNECTING,
    LIVE,
    QUEUE_BYTES,
    QUEUE_RECORDS,
    RECONNECTING,
    FeedClosed,
    FeedFull,
    LiveFeed,
    Skipped,
    Subscription,
)
from logmonitor.web.live_filter import LiveFilter

TOPIC = "errors"


@dataclass
class Record:
    value: bytes
    offset: int
    topic: str = TOPIC


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

    async def getmany(self, *, timeout_ms: int, max_records: int | None = None) -> dict[Any, list[Any]]:
        await asyncio.sleep(0.005)
        if self.broker.fetch_error is not None:
            raise self.broker.fetch_error
        first = self.read
        new = self.broker.written[first:first + (max_records or len(self.broker.written))]
        self.read += len(new)
        return {(TOPIC, 0): [Record(value, first + n) for n, value in enumerate(new)]} if new else {}

    def highwater(self, partition: Any) -> int:
        return len(self.broker.written)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed, "CHECK_SECONDS", 0.01)
    monkeypatch.setattr(feed, "BACKOFF_SECONDS", (0.01, 0.05))


def errors_feed(broker: Broker, max_subscribers: int = 10) -> LiveFeed:
    """A feed of the fake broker's topic, read as the errors feed reads the errors topic."""
    return LiveFeed("errors", TOPIC, lambda: FakeConsumer(broker), errors_in, max_subscribers)


async def next_item(subscription: Subscription) -> bytes | str | Skipped:
    """The next feed state, record as sent, or gap."""
    return await asyncio.wait_for(subscription.get(), 5)


async def follows_again(live: LiveFeed) -> None:
    """A new subscriber (as a client that reconnects after ``reconnecting``) sees the feed live again."""
    async with live.subscribe() as again:
        assert again.state == LIVE or await next_item(again) == LIVE


async def reconnects_through(broker: Broker, attribute: str, broken: Any) -> None:
    """The feed is live, reconnecting while the broker's ``attribute`` is ``broken``, live again once it is not."""
    live, healthy = errors_feed(broker), getattr(broker, attribute)
    async with live.subscribe() as subscription:
        assert await next_item(subscription) == LIVE
        setattr(broker, attribute, broken)
        assert await next_item(subscription) == RECONNECTING
        setattr(broker, attribute, healthy)
        await follows_again(live)


async def test_a_deleted_topic_ends_live_streams_and_a_new_consumer_reads_it_again(
        caplog: pytest.LogCaptureFixture) -> None:
    broker = Broker()
    live = errors_feed(broker)
    async with live.subscribe() as subscription:
        assert subscription.state == CONNECTING
        assert await next_item(subscription) == LIVE
        broker.written.append(b'{"n": 1}')
        assert await next_item(subscription) == b'{"n":1}'
        broker.has_topic = False
        assert await next_item(subscription) == RECONNECTING
        async with asyncio.timeout(5):
            while broker.opened <= 2:  # noqa: ASYNC110 (the fake broker counts, it has no event): several attempts
                await asyncio.sleep(0.005)
        assert live.state == RECONNECTING
        async with live.subscribe() as late:
            assert late.state == RECONNECTING
            broker.has_topic = True
            assert await next_item(late) == LIVE
            broker.written.append(b'{"n": 2}')
            assert await next_item(late) == b'{"n":2}'
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == feed.__name__]
    assert [r.getMessage().split(" (")[0] for r in warnings] == ["live errors feed lost", "live errors feed reading"
                                                                 f" {TOPIC} again"], "one line per outage"
    assert not any(r.exc_info for r in warnings), "an expected failure has no traceback"


async def test_a_consumer_that_raises_is_replaced() -> None:
    await reconnects_through(Broker(), "fetch_error", KafkaConnectionError("broker gone"))


async def test_a_cancelled_error_out_of_aiokafkas_stop_does_not_end_the_feed() -> None:
    await reconnects_through(Broker(stop_cancelled=True), "has_topic", False)


async def test_while_the_broker_does_not_answer_the_feed_is_reconnecting_and_keeps_its_consumer() -> None:
    broker = Broker()
    await reconnects_through(broker, "answers", False)
    assert broker.opened == 1, "aiokafka reconnects by itself and keeps its place"


async def test_the_feed_serves_at_most_its_cap_of_clients() -> None:
    broker = Broker()
    live = errors_feed(broker, 2)
    async with live.subscribe(), live.subscribe():
        with pytest.raises(FeedFull, match="at most 2"):
            async with live.subscribe():
                pass
    async with live.subscribe() as again:
        assert again is not None, "a place frees when a client leaves"


async def test_the_consumer_stops_when_nobody_listens() -> None:
    broker = Broker()
    live = errors_feed(broker, 2)
    async with live.subscribe() as subscription:
        assert await next_item(subscription) == LIVE
    await asyncio.sleep(0.1)
    assert live.state == CONNECTING and broker.opened == 1


async def test_closing_the_feed_ends_every_stream_and_refuses_new_ones() -> None:
    broker = Broker()
    live = errors_feed(broker)
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
async def test_values_of_the_errors_topic_are_sent_as_serialised_on_one_line_or_not_at_all(value: bytes | None,
                                                                                          sent: bytes | None) -> None:
    broker = Broker()
    live = errors_feed(broker)
    async with live.subscribe() as subscription:
        assert await next_item(subscription) == LIVE
        broker.written += [value, b'{"last": 1}']  # type: ignore[list-item]
        first = await next_item(subscription)
        assert first == (sent if sent is not None else b'{"last":1}')
        assert isinstance(first, bytes) and b"\n" not in first and b"\r" not in first
    assert (error_of(value) is None) == (sent is None)


async def test_a_value_that_is_not_a_json_object_is_skipped_and_the_next_one_sent() -> None:
    broker = Broker()
    live = errors_feed(broker)
    async with live.subscribe() as subscription:
        assert await next_item(subscription) == LIVE
        broker.written += [b"garbage\n\ndata: x", b'{"level": "ERROR"}']
        assert await next_item(subscription) == b'{"level":"ERROR"}'


async def test_each_subscriber_gets_only_what_its_filter_wants_serialised_once_for_all() -> None:
    broker = Broker()
    live = errors_feed(broker)
    async with live.subscribe(LiveFilter(service="pay")) as pay, live.subscribe() as everything, \
            live.subscribe(LiveFilter(service="pay", level="CRITICAL")) as critical:
        for subscription in (pay, everything, critical):
            assert await next_item(subscription) == LIVE
        broker.written += [b'{"service": "mail", "level": "ERROR"}', b'{"service": "pay", "level": "ERROR"}',
                           b'{"service": "pay", "level": "CRITICAL"}']
        got = {name: [await next_item(subscription) for _ in range(count)]
               for name, subscription, count in (("pay", pay, 2), ("everything", everything, 3),
                                                 ("critical", critical, 1))}
        assert got["pay"] == [b'{"service":"pay","level":"ERROR"}', b'{"service":"pay","level":"CRITICAL"}']
        assert got["critical"] == [b'{"service":"pay","level":"CRITICAL"}']
        assert got["critical"][0] is got["pay"][1] is got["everything"][2], "one serialisation for every client"
        assert pay.take(10) == [] and critical.take(10) == []


async def test_a_client_that_does_not_keep_up_is_told_how_many_records_it_missed_where_they_are_missing() -> None:
    subscription = Subscription("records", LIVE, lambda record: True)
    for n in range(QUEUE_RECORDS + 5):
        subscription.put_record(b"%d" % n)
    queued = subscription.take(QUEUE_RECORDS)
    assert queued == [b"%d" % n for n in range(QUEUE_RECORDS)], "the bound holds; what came first is kept"
    subscription.put_record(b"later")
    assert subscription.take(10) == [Skipped(5), b"later"], "the gap is told where it is"
    subscription.put_record(b"x" * (QUEUE_BYTES // 2))
    subscription.put_record(b"y" * (QUEUE_BYTES // 2 + 1))
    assert await next_item(subscription) == b"x" * (QUEUE_BYTES // 2)
    assert await next_item(subscription) == Skipped(1), "the bytes are bounded too; a caught-up client hears at once"


def test_after_reconnecting_a_subscription_takes_nothing_more() -> None:
    subscription = Subscription("records", LIVE, lambda record: True)
    subscription.put_state(RECONNECTING)
    subscription.put_record(b"1")
    subscription.put_state(LIVE)
    assert subscription.take(10) == [RECONNECTING]


async def test_publishing_many_records_lets_the_event_loop_turn_between_slices() -> None:
    broker = Broker()
    live = errors_feed(broker)
    turns = 0
    seen_at_turn: Counter[int] = Counter()  # records filtered during each turn of the counting task
    all_seen = asyncio.Event()

    def wants(record: dict[str, Any]) -> bool:
        seen_at_turn[turns] += 1
        if seen_at_turn.total() == YIELD_EVERY * 4:
            all_seen.set()
        return True

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async with live.subscribe(wants) as subscription:
        assert await next_item(subscription) == LIVE
        counting = asyncio.create_task(count_turns())
        broker.written += [b'{"n": %d}' % n for n in range(YIELD_EVERY * 4)]
        await asyncio.wait_for(all_seen.wait(), 5)
        counting.cancel()
    assert max(seen_at_turn.values()) <= YIELD_EVERY, "other tasks run between slices of YIELD_EVERY records"


@pytest.mark.parametrize(("query", "wanted", "unwanted"), [
    ({"service": "pay"}, {"service": "pay", "level": "INFO"}, {"service": "payroll", "level": "INFO"}),
    ({"level": "warning"}, {"level": "WARNING"}, {"level": "ERROR"}),
    ({"min_level": "WARNING"}, {"level": "CRITICAL"}, {"level": "INFO"}),
    ({"min_level": "ERROR"}, {"level": "ERROR"}, {"level": 40}),
    ({"q": "Card"}, {"message": "CARD declined"}, {"message": "timeout"}),
    ({"q": "timeout"}, {"exception": {"type": "TimeoutError"}}, {"exception": "TimeoutError"}),
    ({"q": "db"}, {"logger": "app.db"}, {"message": None, "logger": 3}),
    ({"service": "pay", "min_level": "ERROR", "q": "card"}, {"service": "pay", "level": "ERROR", "message": "card"},
     {"service": "pay", "level": "WARNING", "message": "card"}),
])
def test_live_filters(query: dict[str, str], wanted: dict[str, Any], unwanted: dict[str, Any]) -> None:
    wants = LiveFilter.of(query)
    assert wants(wanted) and not wants(unwanted)
    assert LiveFilter.of({})(unwanted), "no filter: everything"


@pytest.mark.parametrize("query", [{"level": "LOUD"}, {"min_level": "5"}, {"q": "x" * 257}, {"service": "s" * 257}])
def test_bad_live_filters_are_refused(query: dict[str, str]) -> None:
    with pytest.raises(BadParameter):
        LiveFilter.of(query)


async def test_a_feed_that_falls_behind_skips_to_the_end_and_tells_every_client(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(feed, "FETCH_RECORDS", 4)
    monkeypatch.setattr(feed, "MAX_BEHIND", 5)
    broker = Broker()
    live = errors_feed(broker)
    async with live.subscribe() as subscription, live.subscribe(LiveFilter(service="pay")) as filtered:
        assert await next_item(subscription) == LIVE and await next_item(filtered) == LIVE
        broker.written += [b'{"n": %d}' % n for n in range(20)]  # the first fetch brings 4, 16 more are waiting
        assert await next_item(subscription) == Skipped(20) and await next_item(filtered) == Skipped(20)
        broker.written += [b'{"n": 20, "service": "pay"}']
        assert await next_item(subscription) == b'{"n":20,"service":"pay"}'
        assert await next_item(filtered) == b'{"n":20,"service":"pay"}'
        broker.written += [b'{"n": %d}' % n for n in range(21, 41)]
        assert await next_item(subscription) == Skipped(20)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "behind" in r.getMessage()]
    assert lines == [f"live errors feed 20 records behind the end of {TOPIC}: skipped to the end"], "one a run"
