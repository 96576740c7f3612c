"""OTLP batches on application-logs (the OpenTelemetry Collector's Kafka exporter), against a real worker and broker."""

from __future__ import annotations

from typing import Any

import orjson

from tests.fixtures.otlp import encoded, export_request, log_record
from tests.fixtures.traffic import produce, read_topic
from tests.integration.test_router import wait_for

TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")


async def test_collector_batches_in_both_encodings_are_expanded_counted_and_their_bad_record_dead_lettered(
        start_worker: Any) -> None:
    worker = start_worker()
    worker.wait_healthy()
    env = worker.env
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    proto = export_request([log_record("cart opened"), log_record("cart slow", severity=13),
                            log_record("card declined", severity=17, trace_id=TRACE, attributes={
                                "exception.type": "CardError", "exception.message": "declined"})],
                           service="checkout")
    json_batch = export_request([log_record("search done"), log_record("too old", nanos=10**18),
                                 log_record("index gone", severity=21)], service="search")
    await produce(bootstrap, env["LOGMONITOR_TOPIC_LOGS"],
                  [(None, encoded(proto, "proto")), (b"search", encoded(json_batch, "json"))])

    stats = wait_for(worker, "/api/v1/logs/stats", lambda s: s["total_logs"] == 5 and s["invalid_records"] == 1)
    assert stats["by_service"] == {"checkout": {"INFO": 1, "WARNING": 1, "ERROR": 1},
                                   "search": {"INFO": 1, "CRITICAL": 1}}
    assert stats["invalid_records"] == 1
    [error] = worker.get_json("/api/v1/logs/errors/checkout")["errors"]
    assert (error["message"], error["trace_id"]) == ("card declined", TRACE.hex())
    assert error["exception"]["type"] == "CardError" and error["id"].endswith("-2"), "place and index as id"
    [letter] = [orjson.loads(record.value) for record in await read_topic(bootstrap, env["LOGMONITOR_TOPIC_DLQ"], 1)]
    assert letter["reason"].startswith("stale_timestamp") and letter["source"]["index"] == 1
    assert orjson.loads(letter["raw"])["body"] == {"stringValue": "too old"}, "the record itself, as OTLP/JSON"
