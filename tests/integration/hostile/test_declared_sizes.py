"""Bodies that declare more than they carry, over HTTP and on Kafka (issue 26 items 1 and 2, DESIGN R13).

Against a real ingest server and worker: gzip bodies of kilobytes that hold millions of empty
records (OTLP protobuf and JSON, NDJSON) and a snappy Loki push, each refused 413 with the bound
it passed, the in-flight bytes given back; a record of 9 million empty attributes, rejected
alone; and an lz4 message of 4 million empty records on the
logs topic, which the router dead-letters with its reason while everything else goes on.
(bench/hostile.py measures what each costs.)
"""

from __future__ import annotations

import asyncio
import gzip
import time
import uuid
from collections.abc import Iterator
from typing import Any

import cramjam
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

from logmonitor.timestamps import iso_timestamp
from tests.fixtures.ingest import IngestProcess, read_topic, running_ingest, wait_for, worker_ingest_env
from tests.fixtures.protobuf_wire import EMPTY, field, otlp_of_empty_records
from tests.fixtures.worker import WorkerProcess

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def ingest(module_worker: WorkerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestProcess]:
    with running_ingest(worker_ingest_env(module_worker), tmp_path_factory.mktemp("declared") / "ingest.log") as server:
        yield server


@pytest.mark.parametrize(("path", "content_type", "body", "encoding", "reason"), [
    ("/v1/logs", "application/x-protobuf", otlp_of_empty_records(9_000_000), "gzip", "too_many_records"),
    ("/v1/logs", "application/json",
     b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[' + b",".join([b"{}"] * 6_000_000) + b"]}]}]}", "gzip",
     "too_large"),
    ("/api/v1/ingest", "application/x-ndjson", b"{}\n" * 6_000_000, "gzip", "too_many_records"),
    ("/loki/api/v1/push", "application/x-protobuf",
     field(1, field(1, b'{service_name="s"}') + EMPTY * 9_000_000), "snappy", "too_many_records"),
], ids=["otlp-proto-9M", "otlp-json-6M", "ndjson-6M", "loki-snappy-9M"])
def test_a_small_body_declaring_millions_of_records_is_413_with_its_bound(
        ingest: IngestProcess, path: str, content_type: str, body: bytes, encoding: str, reason: str) -> None:
    wire = gzip.compress(body, 9) if encoding == "gzip" else bytes(cramjam.snappy.compress_raw(body))
    assert len(wire) < MIB and len(body) < 20 * MIB, (len(wire), len(body))  # snappy: 845 KB, gzip: 18-60 KB
    status, _headers, answer = ingest.post(path, wire, {"Content-Type": content_type, "Content-Encoding": encoding})
    assert status == 413, answer[:200]
    if path == "/v1/logs" and content_type == "application/x-protobuf":
        refusal = Status.FromString(answer)
        assert refusal.code == 8 and refusal.message.startswith(reason), refusal
    else:
        message = orjson.loads(answer)
        text = message["message"] if "message" in message else f"{message['error']}: {message['detail']}"
        assert text.startswith(reason), message
    wait_for(lambda: ingest.metric("logmonitor_ingest_bytes_in_flight"), lambda held: held == 0, timeout=30)


def test_a_record_declaring_millions_of_empty_attributes_is_rejected_alone(ingest: IngestProcess) -> None:
    record = field(2, b"\x32\x00" * 9_000_000)  # 18 MB of empty attributes: a parser built an object each
    wire = gzip.compress(field(1, field(2, record)), 9)
    status, _headers, answer = ingest.post("/v1/logs", wire, {"Content-Type": "application/x-protobuf",
                                                              "Content-Encoding": "gzip"})
    assert status == 200, answer[:200]
    partial = ExportLogsServiceResponse.FromString(answer).partial_success
    assert partial.rejected_log_records == 1 and "oversized" in partial.error_message, partial


def test_the_ingest_server_takes_ordinary_bodies_after_them(ingest: IngestProcess) -> None:
    line = orjson.dumps({"level": "INFO", "service": "after-hostile", "message": "ordinary",
                         "timestamp": iso_timestamp(time.time())})
    status, _headers, answer = ingest.post("/api/v1/ingest", line, {"Content-Type": "application/x-ndjson"})
    assert status == 200 and orjson.loads(answer) == {"accepted": 1, "rejected": 0}


async def test_a_batch_on_kafka_beyond_the_record_bound_is_dead_lettered_with_its_reason(
        module_worker: WorkerProcess) -> None:
    env = module_worker.env
    bootstrap, logs, dlq = env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], env["LOGMONITOR_TOPIC_DLQ"]
    value = otlp_of_empty_records(4_000_000)  # 8 MB, a few KB as lz4: what the Collector-shaped value was
    marker = {"id": uuid.uuid4().hex, "timestamp": iso_timestamp(time.time()), "level": "ERROR",
              "service": "after-the-batch", "message": "routed after the hostile batch"}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="lz4", max_request_size=9 * MIB,
                                acks="all")
    await producer.start()
    try:
        await (await producer.send(logs, value, key=b"collector"))
        await (await producer.send(logs, orjson.dumps(marker), key=b"after-the-batch"))
    finally:
        await producer.stop()
    letters = await asyncio.to_thread(read_topic, bootstrap, dlq,
                                      lambda values: any(v["reason"].startswith("too_many_records") for v in values))
    (letter,) = [v for v in letters if v["reason"].startswith("too_many_records")]
    assert letter["source"]["topic"] == logs and letter.get("raw_truncated") is True, "the whole value, cut, once"
    await asyncio.to_thread(module_worker.wait_counted, 1, "total_errors")
    stats: Any = module_worker.get_json("/api/v1/logs/stats")
    assert stats["invalid_records"] >= 1 and stats["by_service"]["after-the-batch"] == {"ERROR": 1}
    assert module_worker.get_json("/api/v1/health")["status"] == "ok"
