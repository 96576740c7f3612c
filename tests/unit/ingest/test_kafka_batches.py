"""OTLP batches on application-logs: told from records, expanded in the router, counted once when replayed."""

from __future__ import annotations

import time

import orjson
import pytest

from logmonitor.ingest.decoded import Rejected
from logmonitor.ingest.kafka_batches import records_of
from logmonitor.pipeline import pacer, router
from logmonitor.pipeline.tables.service_state import profile_key
from tests.fixtures.otlp import encoded, export_request, log_record
from tests.unit.dict_tables import DictTables
from tests.unit.test_router import DEAD_LETTERS, ERRORS, LOGS, FakeProducer, batch, raw, sent_without_times
from tests.unit.test_router import loop_turns as loop_turns  # fixtures
from tests.unit.test_router import producer as producer
from tests.unit.test_router import route as route

NOW = time.time()
ENCODINGS = ("proto", "json")


def collector_batch(encoding: str) -> bytes:
    """What the Collector's Kafka exporter writes: one request, here with an error and a record too old to use."""
    return encoded(export_request([
        log_record("started"), log_record("card declined", severity=17, attributes={"exception.type": "CardError"}),
        log_record("ancient", nanos=10**18), log_record("uid", attributes={"log.record.uid": "u-1"})]), encoding)


def test_a_record_is_its_own_single_record() -> None:
    value = raw("INFO", "hello")
    assert list(records_of(value, NOW)) == [(None, value)]
    assert list(records_of(None, NOW)) == [(None, None)]
    newline_json = b"\n" + value
    assert list(records_of(newline_json, NOW)) == [(None, newline_json)], "JSON that starts like protobuf"
    mention = b'{"note": "resourceLogs", "x": 1}'
    assert list(records_of(mention, NOW)) == [(None, mention)], "a record that names resourceLogs"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_an_otlp_batch_is_each_of_its_records_in_order(encoding: str) -> None:
    expanded = list(records_of(collector_batch(encoding), NOW))
    assert [index for index, _value in expanded] == [0, 1, 2, 3]
    assert isinstance(expanded[2][1], Rejected) and expanded[2][1].reason.startswith("stale_timestamp")
    good = [orjson.loads(value) for _index, value in expanded if isinstance(value, bytes)]
    assert [record["message"] for record in good] == ["started", "card declined", "uid"]
    assert [record.get("id") for record in good] == [None, None, "u-1"], "the router gives the place as id"


@pytest.mark.parametrize("value", [b"\n\x00", b"\n\x02\x0a\x00", b"\n\xff\xff", b"\n"])
def test_protobuf_without_a_log_record_is_no_batch(value: bytes) -> None:
    assert list(records_of(value, NOW)) == [(None, value)], "left to the parser, which dead-letters it"


def test_an_otlp_json_batch_that_cannot_be_read_is_rejected_whole() -> None:
    value = b'{"resourceLogs": [{"scopeLogs": 5}]}'
    [(index, rejected)] = list(records_of(value, NOW))
    assert index is None and rejected == Rejected("bad_otlp: scopeLogs must be an array", value)


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_the_router_expands_a_batch_dead_letters_its_bad_record_and_counts_a_replay_once(
        encoding: str, route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    values = [raw("INFO", "before"), collector_batch(encoding), raw("INFO", "after")]
    await route(batch(values))
    errors, letters = producer.to(ERRORS), producer.to(DEAD_LETTERS)
    assert [error["id"] for error in errors] == [f"{LOGS}-2-41-1"], "the batch's offset and the record's index"
    assert errors[0]["exception"]["type"] == "CardError"
    assert [letter["source"] for letter in letters] == [{"topic": LOGS, "partition": 2, "offset": 41, "index": 2}]
    assert letters[0]["reason"].startswith("stale_timestamp")
    assert tables.state[profile_key("checkout")]["totals"] == {"INFO": 2, "ERROR": 1}
    assert tables.state[profile_key("pay")]["totals"] == {"INFO": 2}
    assert tables.invalid["2"]["n"] == 1

    counted, sent = tables.snapshot(), sent_without_times(producer)
    await route(batch(values))
    assert tables.snapshot() == counted, "replayed after a kill: every record of the batch counted once"
    assert sent_without_times(producer) == sent + sent, "and forwarded with the same ids"


async def test_a_big_batch_lets_the_event_loop_in_between_its_records(
        route: router.Router, tables: DictTables, producer: FakeProducer, loop_turns: list[float]) -> None:
    many = export_request([log_record(f"r{i}") for i in range(pacer.YIELD_EVERY * 2 + 1)])
    await route(batch([encoded(many, "proto")]))
    assert loop_turns == [0, 0]
    assert tables.state[profile_key("checkout")]["totals"] == {"INFO": pacer.YIELD_EVERY * 2 + 1}
