"""The router's batch handling in-process: one batch in; forwarded errors, dead letters and table cells out.

The producer is a fake that records what the router sends, the tables are dicts
(tests/unit/dict_tables.py); tests/integration/test_router.py runs the same against a broker.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from aiokafka import ConsumerRecord
from faust.types import Message

from logmonitor.engine.batch_consumer import Batch
from logmonitor.handler.redaction import FILTERED, REDACTED_HEADER, REDACTION_RULES
from logmonitor.home_partition import home_partition
from logmonitor.pipeline import pacer, repartition, router
from logmonitor.pipeline.aggregation import Bounds
from logmonitor.pipeline.repartition import Forwards, forwarded_records
from logmonitor.pipeline.service_labels import ServiceLabels
from logmonitor.pipeline.tables.service_state import chunk_key, profile_key
from logmonitor.server.app import LogMonitorApp
from logmonitor.timestamps import iso_timestamp
from tests.unit.dict_tables import WINDOW_TABLE, DictTables

LOGS, REPARTITION = "application-logs", "application-logs-repartition"
PARTITIONS = 7  # "pay" and "checkout" are at home on partition 2 of 7
ERRORS, DEAD_LETTERS = "application-logs-errors", "application-logs-dlq"
SECRET = "password=hunter2"


class FakeProducer:
    """Records each send as (topic, key, value: decoded, a bundle's as is); ``messages``: as sent, with partition and
    headers."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, dict[str, Any]]] = []
        self.messages: list[tuple[str, bytes | None, bytes, int | None, Any]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes, partition: Any, timestamp: Any,
                   headers: Any) -> None:
        self.sent.append((topic, key, value if topic == REPARTITION else orjson.loads(value)))
        self.messages.append((topic, key, value, partition, headers))

    def to(self, topic: str) -> list[dict[str, Any]]:
        return [value for sent_to, _key, value in self.sent if sent_to == topic]


@pytest.fixture
def producer(app: LogMonitorApp, monkeypatch: pytest.MonkeyPatch) -> FakeProducer:
    fake = FakeProducer()
    monkeypatch.setattr(app, "producer", fake)
    return fake


@pytest.fixture
def route(app: LogMonitorApp, tables: DictTables) -> router.Router:
    """The router of ``app`` over the dict tables."""
    return router.Router(app, tables.tables, Bounds(1000, 1000, 1000, 4 * 1024 * 1024), ServiceLabels(1000),
                         errors_topic=ERRORS, dead_letters_topic=DEAD_LETTERS, repartition_topic=REPARTITION,
                         partitions=PARTITIONS)


def raw(level: str, message: str, service: str = "pay", **fields: Any) -> bytes:
    return orjson.dumps({"timestamp": iso_timestamp(time.time()), "level": level, "service": service,
                         "message": message, **fields})


def batch(values: list[bytes], partition: int = 2, first: int = 40, ours: bool = False, key: bytes | None = b"k"
          ) -> Batch:
    """One partition's fetched records; ``ours``: sent by our handler, redacted already."""
    headers = [(REDACTED_HEADER, REDACTION_RULES)] if ours else []
    records = [ConsumerRecord(LOGS, partition, first + i, 0, 0, key, value, None, 1, len(value), headers)
               for i, value in enumerate(values)]
    last = records[-1]
    return Batch(records, Message(LOGS, partition, last.offset, 0.0, 0, headers, last.key, last.value, None))


KEY_ERROR = {"type": "KeyError"}
VALUES = [raw("INFO", "hello"), raw("ERROR", f"Order 17 failed {SECRET}", exception=KEY_ERROR), b"not json",
          raw("WARNING", "slow"), raw("ERROR", "Order 18 failed password=x", id="e-18", exception=KEY_ERROR)]


async def test_a_batch_forwards_errors_dead_letters_invalid_records_and_counts_the_rest(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    await route(batch(VALUES))
    errors, letters = producer.to(ERRORS), producer.to(DEAD_LETTERS)
    assert [error["id"] for error in errors] == [f"{LOGS}-2-41", "e-18"], "an id, the log position if none was set"
    assert {error["fingerprint"] for error in errors} == {errors[0]["fingerprint"]}, "one bug, one group"
    assert errors[0]["title"].startswith("KeyError: Order")
    assert [key for topic, key, _value in producer.sent if topic == ERRORS] == [b"pay", b"pay"]
    assert {partition for topic, _key, _value, partition, _headers in producer.messages if topic == ERRORS} == {
        home_partition("pay", PARTITIONS)}, "where Kafka's default partitioner puts the key (the topic has 7 too)"
    assert len(letters) == 1 and letters[0]["source"] == {"topic": LOGS, "partition": 2, "offset": 42}
    assert letters[0]["raw"] == "not json" and letters[0]["reason"].startswith("not_json")
    assert tables.state[profile_key("pay")]["totals"] == {"INFO": 1, "ERROR": 2, "WARNING": 1}
    assert tables.invalid["2"]["n"] == 1 and tables.writes[WINDOW_TABLE] == 1


async def test_a_record_from_another_producer_is_redacted_ours_is_not_redacted_again(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    await route(batch([raw("ERROR", f"login {SECRET}")]))
    assert producer.to(ERRORS)[0]["message"] == f"login password={FILTERED}"
    await route(batch([raw("ERROR", f"login {SECRET}")], first=50, ours=True))
    assert producer.to(ERRORS)[1]["message"] == f"login {SECRET}", "the handler's own rules were applied"


async def test_another_producers_invalid_record_is_dead_lettered_redacted_ours_as_it_came(
        route: router.Router, producer: FakeProducer) -> None:
    invalid = raw("LOUD", f"login {SECRET}", extra={"api_key": "k-123"})  # bad_level
    await route(batch([invalid]))
    await route(batch([invalid], first=50, ours=True))
    foreign, ours = producer.to(DEAD_LETTERS)
    assert foreign["reason"].startswith("bad_level") and foreign["raw_redacted"] is True
    assert "hunter2" not in foreign["raw"] and "k-123" not in foreign["raw"]
    assert orjson.loads(foreign["raw"])["message"] == f"login password={FILTERED}", "the rest kept as it came"
    assert ours["raw"] == invalid.decode() and "raw_redacted" not in ours, "the handler's own rules were applied"


async def test_an_errors_release_and_environment_are_forwarded_and_kept_in_the_ring(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    await route(batch([raw("ERROR", "boom", release="2.4.1", environment="production"),
                       raw("ERROR", "boom", release=" "), raw("ERROR", "boom")]))
    errors = producer.to(ERRORS)
    assert [(error["release"], error["environment"]) for error in errors] == [("2.4.1", "production"), (None, None)]
    assert producer.to(DEAD_LETTERS)[0]["reason"].startswith("bad_release")
    ring = tables.state[chunk_key("pay", 0)]["errors"]
    assert [(error["release"], error["environment"]) for error in ring] == [("2.4.1", "production"), (None, None)]


async def test_an_errors_breadcrumbs_are_forwarded_and_kept_redacted_when_another_producer_sent_them(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    crumbs = [{"timestamp": "2026-12-06T10:00:00.000Z", "level": "INFO", "logger": "shop",
               "message": f"login {SECRET}"}]
    await route(batch([raw("ERROR", "boom", breadcrumbs=crumbs), raw("ERROR", "boom", breadcrumbs=[1])]))
    [error] = producer.to(ERRORS)
    assert error["breadcrumbs"] == [{**crumbs[0], "message": f"login password={FILTERED}"}]
    assert tables.state[chunk_key("pay", 0)]["errors"][0]["breadcrumbs"] == error["breadcrumbs"]
    assert producer.to(DEAD_LETTERS)[0]["reason"].startswith("bad_breadcrumbs")


def sent_without_times(producer: FakeProducer) -> list[tuple[str, bytes | None, dict[str, Any]]]:
    return [(topic, key, {k: v for k, v in value.items() if k != "received_at"}) for topic, key, value in producer.sent]


async def test_a_replayed_batch_is_sent_again_but_counted_once(route: router.Router, tables: DictTables,
                                                               producer: FakeProducer) -> None:
    await route(batch(VALUES))
    counted, sent = tables.snapshot(), sent_without_times(producer)
    await route(batch(VALUES))
    assert sent_without_times(producer) == sent + sent, "the forwards are repeated (readers de-duplicate by id, offset)"
    assert tables.snapshot() == counted


@pytest.fixture
def loop_turns(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays of the router's sleeps: each is a turn it gives the event loop."""
    turns = []
    real_sleep = router.asyncio.sleep

    async def sleep(delay: float) -> None:
        turns.append(delay)
        await real_sleep(delay)

    monkeypatch.setattr(router.asyncio, "sleep", sleep)
    return turns


async def test_a_big_batch_lets_the_event_loop_in(route: router.Router, tables: DictTables,
                                                 producer: FakeProducer, loop_turns: list[float]) -> None:
    await route(batch([raw("INFO", f"r{i}") for i in range(pacer.YIELD_EVERY * 2 + 1)]))
    assert loop_turns == [0, 0]
    assert tables.state[profile_key("pay")]["totals"] == {"INFO": pacer.YIELD_EVERY * 2 + 1}


def forwards(producer: FakeProducer, first: int = 0) -> list[ConsumerRecord]:
    """The records the router forwarded to the repartition topic, as the home partition reads them (from ``first``)."""
    sent = [message for message in producer.messages if message[0] == REPARTITION]
    return [ConsumerRecord(REPARTITION, partition, first + i, 0, 0, key, value, None, 1, len(value), headers)
            for i, (_topic, key, value, partition, headers) in enumerate(sent)]


def repartition_batch(records: list[ConsumerRecord]) -> Batch:
    last = records[-1]
    return Batch(records, Message(REPARTITION, last.partition, last.offset, 0.0, 0, last.headers, last.key,
                                  last.value, None))


async def test_a_record_off_its_home_partition_is_forwarded_there_with_its_source_and_counted_there_once(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    values = [raw("INFO", "hello"), raw("ERROR", "Order 17 failed", exception=KEY_ERROR), b"not json"]
    await route(batch(values, partition=0, first=40, ours=True))
    assert producer.to(ERRORS) == [] and profile_key("pay") not in tables.state, "nothing counted off its home"
    assert [letter["source"]["offset"] for letter in producer.to(DEAD_LETTERS)] == [42], "dead letters stay"
    assert tables.invalid["0"]["n"] == 1
    (bundle,) = sent = forwards(producer)
    assert (bundle.key, bundle.partition, bundle.value) == (b"k", 2, values[0] + values[1]), "one bundle, in order"
    places = [[40, None, len(values[0])], [41, None, len(values[1])]]
    assert bundle.headers == [(REDACTED_HEADER, REDACTION_RULES), ("lm-source-topic", LOGS.encode()),
                              ("lm-source-partition", b"0"), ("lm-source-records", orjson.dumps(places))]

    await route(repartition_batch(sent))
    assert tables.state[profile_key("pay")]["totals"] == {"INFO": 1, "ERROR": 1}
    error, = producer.to(ERRORS)
    assert error["id"] == f"{LOGS}-0-41", "the id is the place it was read first"
    assert [key for topic, key, _value in producer.sent if topic == REPARTITION] == [b"k"], "not forwarded again"
    counted = tables.snapshot()
    await route(repartition_batch(forwards(producer, first=1)))  # the bundle written twice, as a crash leaves it
    assert tables.snapshot() == counted, "a repeated forward is counted once"


async def test_unkeyed_records_are_forwarded_by_their_service_alone_and_parsed_at_home(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    ecs = orjson.dumps({"@timestamp": iso_timestamp(time.time()), "log.level": "warn", "service.name": "pay",
                        "message": "slow"})
    values = [raw("INFO", "hello"), raw("LOUD", "a level no parse accepts"), ecs, b"not json", raw("INFO", "x")[:-1]]
    await route(batch(values, partition=0, first=40, key=None))
    assert [letter["source"]["offset"] for letter in producer.to(DEAD_LETTERS)] == [43, 44], "no service: here"
    (bundle,) = forwards(producer)
    records = forwarded_records(bundle.value, bundle.headers)
    assert records is not None and [(value, source.offset) for value, source in records] == [
        (values[0], 40), (values[1], 41), (ecs, 42)], "as they were read, in order"
    await route(repartition_batch([bundle]))
    assert tables.state[profile_key("pay")]["totals"] == {"INFO": 1, "WARNING": 1}
    letter = producer.to(DEAD_LETTERS)[-1]
    assert letter["source"] == {"topic": LOGS, "partition": 0, "offset": 41} and letter["reason"].startswith(
        "bad_level"), "invalid but addressed: dead-lettered at its home, naming where it was read"
    assert tables.invalid["2"]["n"] == 1


def bundles(forwarded: Forwards) -> list[ConsumerRecord]:
    """The messages of ``forwarded`` as the home partition reads them."""
    return [ConsumerRecord(REPARTITION, partition, i, 0, 0, key, value, None, 1, len(value), headers)
            for i, (key, value, partition, headers) in enumerate(forwarded.messages())]


async def test_an_otlp_batchs_records_are_forwarded_one_by_one_and_counted_once_each(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    otlp = orjson.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "pay"}}]},
        "scopeLogs": [{"logRecords": [{"timeUnixNano": str(time.time_ns()), "severityText": "INFO",
                                       "body": {"stringValue": f"record {n}"}} for n in range(3)]}]}]})
    await route(batch([otlp], partition=1, first=7))
    (bundle,) = forwards(producer)
    records = forwarded_records(bundle.value, bundle.headers)
    assert records is not None and [source.index_in_batch for _value, source in records] == [0, 1, 2]
    first, again = Forwards(LOGS, 1), Forwards(LOGS, 1)  # bundled otherwise when forwarded again after a crash
    for forwarded, chosen in ((first, records[:2]), (again, records[1:])):
        for value, source in chosen:
            forwarded.add(2, None, value, [], source.offset, source.index_in_batch)
    await route(repartition_batch(bundles(first)))
    await route(repartition_batch(bundles(again)))
    assert tables.state[profile_key("pay")]["totals"] == {"INFO": 3}


def test_a_bundle_ends_where_the_key_headers_or_home_change_or_it_is_full_and_keeps_each_homes_order() -> None:
    forwarded = Forwards(LOGS, 0)
    places = [(2, b"a", []), (3, b"a", []), (2, b"a", []), (2, None, []), (2, None, [("h", b"1")])]
    places += [(2, None, [("h", b"1")])] * (repartition.BUNDLE_RECORDS + 1)
    for offset, (home, key, headers) in enumerate(places):
        forwarded.add(home, key, b"%d" % offset, headers, offset, None)
    messages = list(forwarded.messages())
    sizes = [(key, home, len(orjson.loads(dict(headers)["lm-source-records"]))) for key, _v, home, headers in messages]
    assert sizes == [(b"a", 2, 2), (b"a", 3, 1), (None, 2, 1), (None, 2, repartition.BUNDLE_RECORDS), (None, 2, 2)]
    read = [source.offset for key, value, home, headers in messages if home == 2
            for _value, source in forwarded_records(value, headers) or ()]
    assert read == sorted(read) and len(forwarded) == len(places) == len(read) + 1


@pytest.mark.parametrize("places", [
    [[40, None, 3]], [[40, None, 30], [41, None, 30]], [[True, None, 30]], [[40.0, None, 30]], [[-1, None, 30]],
    [[40, -2, 30]], [[40, None]], {"40": 30}, "x"])
def test_a_bundle_whose_places_do_not_fit_its_value_is_no_forward(places: Any) -> None:
    value = raw("INFO", "hi")[:30]
    headers = [("lm-source-topic", LOGS.encode()), ("lm-source-partition", b"0"),
               ("lm-source-records", orjson.dumps(places))]
    assert forwarded_records(value, headers) is None


async def test_a_record_in_the_repartition_topic_without_its_source_is_dead_lettered(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    record = ConsumerRecord(REPARTITION, 2, 5, 0, 0, b"pay", raw("INFO", "hi"), None, 1, 10, [])
    await route(repartition_batch([record]))
    letter, = producer.to(DEAD_LETTERS)
    assert letter["source"] == {"topic": REPARTITION, "partition": 2, "offset": 5}
    assert letter["reason"].startswith("not a forwarded record") and profile_key("pay") not in tables.state


async def test_a_timestamp_shaped_like_ours_that_is_no_time_is_dead_lettered_and_the_batch_goes_on(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    """Such a record once raised ValueError out of the batch handler, stopping the batch at every read."""
    values = [raw("INFO", "before"), raw("INFO", "month 13", timestamp="2026-13-01T00:00:00.000Z"),
              raw("ERROR", "second 60", timestamp="2026-11-26T06:31:60.000Z"), raw("INFO", "after")]
    await route(batch(values))
    assert [letter["reason"].split(":", 1)[0] for letter in producer.to(DEAD_LETTERS)] == ["bad_timestamp"] * 2
    assert tables.state[profile_key("pay")]["totals"] == {"INFO": 2}
