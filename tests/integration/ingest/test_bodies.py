"""NDJSON the curl way, every kind of bad body (400, 413 with a gzip bomb too, 415), rejected records' dead letters."""

from __future__ import annotations

import gzip
import time
import uuid
from collections.abc import Iterator

import orjson
import pytest
from google.rpc.status_pb2 import Status

from logmonitor.handler.redaction import FILTERED
from logmonitor.timestamps import iso_timestamp
from tests.fixtures.ingest import IngestProcess, read_topic, running_ingest, wait_for, worker_ingest_env
from tests.fixtures.worker import WorkerProcess

pytestmark = pytest.mark.integration

NDJSON = {"Content-Type": "application/x-ndjson"}
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def ingest(module_worker: WorkerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestProcess]:
    """An ingest server in front of the module's worker, with a 64 KiB body limit, shared by the module's tests."""
    with running_ingest(worker_ingest_env(module_worker, LOGMONITOR_INGEST_MAX_BODY_BYTES=str(LIMIT)),
                        tmp_path_factory.mktemp("bodies") / "ingest.log") as server:
        yield server


def record(service: str, level: str, message: str) -> dict[str, object]:
    return {"id": uuid.uuid4().hex, "timestamp": iso_timestamp(time.time()), "level": level, "service": service,
            "host": "h1", "logger": "app", "message": message}


def test_ndjson_records_are_acknowledged_and_counted_and_bad_lines_go_to_the_dlq(
        ingest: IngestProcess, module_worker: WorkerProcess) -> None:
    service = f"ndjson-{uuid.uuid4().hex[:6]}"
    rejected_before = ingest.metric("logmonitor_ingest_records_rejected_total")  # the server is the module's
    lines = [record(service, "INFO", "hello"), record(service, "ERROR", "boom")]
    body = b"\n".join(orjson.dumps(line) for line in lines) + b"\n{not json, token=s3cr3t\n"
    status, _, answer = ingest.post("/api/v1/ingest", gzip.compress(body), {**NDJSON, "Content-Encoding": "gzip"})
    assert (status, orjson.loads(answer)) == (200, {"accepted": 2, "rejected": 1})
    stats = wait_for(lambda: module_worker.get_json("/api/v1/logs/stats"),
                     lambda s: sum(s["by_service"].get(service, {}).values()) >= 2)
    assert stats["by_service"][service] == {"INFO": 1, "ERROR": 1}
    letters = read_topic(module_worker.env["KAFKA_BOOTSTRAP_SERVERS"], module_worker.env["LOGMONITOR_TOPIC_DLQ"],
                         lambda values: any(v["source"].get("ingest") == "/api/v1/ingest" for v in values))
    [letter] = [v for v in letters if v["source"].get("ingest") == "/api/v1/ingest" and v["raw"].startswith("{not")]
    assert letter["raw"] == f"{{not json, token={FILTERED}" and letter["raw_redacted"] is True, "redacted"
    assert letter["reason"] and letter["source"]["content_type"] == "application/x-ndjson"
    assert ingest.metric("logmonitor_ingest_records_rejected_total") - rejected_before == 1


def test_an_undecodable_otlp_body_is_400_with_a_status_in_its_encoding(ingest: IngestProcess) -> None:
    protobuf = {"Content-Type": "application/x-protobuf"}
    status, headers, answer = ingest.post("/v1/logs", b"\xff\x00 not protobuf", protobuf)
    assert (status, headers["Content-Type"]) == (400, "application/x-protobuf")
    assert Status.FromString(answer).code == 3 and Status.FromString(answer).message
    status, headers, answer = ingest.post("/v1/logs", b"[1, 2", {"Content-Type": "application/json"})
    assert status == 400 and set(orjson.loads(answer)) == {"code", "message"}


def test_an_undecodable_loki_body_and_a_broken_gzip_are_400_with_a_json_error(ingest: IngestProcess) -> None:
    status, _, answer = ingest.post("/loki/api/v1/push", b"{\"streams\": 7}", {"Content-Type": "application/json"})
    assert status == 400 and set(orjson.loads(answer)) == {"error", "detail"}
    gzipped = {**NDJSON, "Content-Encoding": "gzip"}
    status, _, answer = ingest.post("/api/v1/ingest", b"\x1f\x8b not gzip at all", gzipped)
    assert (status, orjson.loads(answer)["error"]) == (400, "undecodable_body")


def test_a_body_over_the_limit_is_413_also_when_it_is_small_gzip(ingest: IngestProcess) -> None:
    line = orjson.dumps(record("big", "INFO", "x" * 1000)) + b"\n"
    status, _, answer = ingest.post("/api/v1/ingest", line * (LIMIT // len(line) + 1), NDJSON)
    assert (status, orjson.loads(answer)["error"]) == (413, "body_too_large")
    bomb = gzip.compress(b"\n" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB of nothing in about 64 KiB
    assert len(bomb) < LIMIT * 8
    status, _, answer = ingest.post("/api/v1/ingest", bomb, {**NDJSON, "Content-Encoding": "gzip"})
    assert (status, orjson.loads(answer)["error"]) == (413, "body_too_large")
    status, headers, answer = ingest.post("/v1/logs", bomb, {"Content-Type": "application/json",
                                                             "Content-Encoding": "gzip"})
    assert (status, headers["Content-Type"], orjson.loads(answer)["code"]) == (413, "application/json", 8)
    assert ingest.post("/api/v1/ingest", line, NDJSON)[0] == 200, "the server is still there"


def test_an_unsupported_content_type_or_encoding_is_415(ingest: IngestProcess) -> None:
    status, _, answer = ingest.post("/api/v1/ingest", b"a=b", {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, orjson.loads(answer)["error"]) == (415, "unsupported_media_type")
    status, _, answer = ingest.post("/loki/api/v1/push", b"{}", {"Content-Type": "application/json",
                                                                 "Content-Encoding": "compress"})
    assert (status, orjson.loads(answer)["error"]) == (415, "unsupported_encoding")
    status, _, answer = ingest.post("/v1/logs", b"x", {"Content-Type": "text/plain"})
    assert status == 415 and orjson.loads(answer)["code"] == 3


def test_unknown_routes_and_methods_answer_json_and_every_answer_has_the_security_headers(
        ingest: IngestProcess) -> None:
    status, headers, answer = ingest.post("/nowhere", b"", NDJSON)
    assert (status, set(orjson.loads(answer))) == (404, {"error", "detail"})
    assert headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in headers
