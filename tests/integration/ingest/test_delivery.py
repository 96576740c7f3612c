"""Delivery semantics against a real broker: 503 while Kafka is away and nothing lost after the retry, 429 at
the in-flight bound, 401 without the token, one clear line when no broker answers at start."""

from __future__ import annotations

import asyncio
import base64
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from logmonitor.dev.localkafka import LocalKafka
from logmonitor.timestamps import iso_timestamp
from tests.fixtures.ingest import IngestProcess, ingest_env, read_topic, wait_for
from tests.fixtures.ports import free_port
from tests.fixtures.raw_http import raw_request

pytestmark = pytest.mark.integration

NDJSON = {"Content-Type": "application/x-ndjson"}


def batch(count: int, service: str = "delivery") -> tuple[bytes, set[str]]:
    """An NDJSON body of ``count`` records and their ids."""
    ids = [uuid.uuid4().hex for _ in range(count)]
    lines = [orjson.dumps({"id": i, "timestamp": iso_timestamp(time.time()), "level": "INFO", "service": service,
                           "host": "h", "logger": "app", "message": f"record {n}"}) for n, i in enumerate(ids)]
    return b"\n".join(lines), set(ids)


def create_topics(bootstrap: str, *names: str) -> None:
    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, 2, 1) for name in names])
        finally:
            await admin.close()

    asyncio.run(create())


@pytest.fixture
def topics(unique_name: Callable[[str], str]) -> tuple[str, str]:
    return unique_name("ingest-logs"), unique_name("ingest-dlq")


def ready(ingest: IngestProcess) -> int:
    """The status of ``GET /ready``."""
    return raw_request(ingest.url, "GET", "/ready").status


def test_kafka_stopped_during_a_push_is_503_ready_says_so_and_after_the_restart_the_retried_push_loses_nothing(
        restartable_broker: LocalKafka, start_ingest: Callable[..., IngestProcess], topics: tuple[str, str]) -> None:
    bootstrap = restartable_broker.bootstrap_servers
    create_topics(bootstrap, *topics)
    ingest = start_ingest(ingest_env(bootstrap, *topics, LOGMONITOR_INGEST_PRODUCE_TIMEOUT="3s"))
    first, first_ids = batch(200)
    assert ingest.post("/api/v1/ingest", first, NDJSON)[0] == 200
    assert ready(ingest) == 200
    restartable_broker.stop()
    wait_for(lambda: ready(ingest), lambda status: status == 503, timeout=30)
    assert raw_request(ingest.url, "GET", "/health").status == 200, "health is liveness: the process serves"
    second, second_ids = batch(300)
    status, headers, answer = ingest.post("/api/v1/ingest", second, NDJSON)
    assert (status, orjson.loads(answer)["error"]) == (503, "kafka_unavailable")
    assert int(headers["Retry-After"]) > 0
    detail, identifier = orjson.loads(answer)["detail"], headers["X-Request-Id"]
    assert identifier in detail and topics[0] not in detail and "Error" not in detail, "a fixed message and an id"
    assert any(identifier in line and "Kafka" in line for line in ingest.log_text().splitlines()), "details logged"
    restartable_broker.start()
    wait_for(lambda: ready(ingest), lambda status: status == 200, timeout=120)
    # The shipper's part: send the same request again until it is acknowledged.
    status = wait_for(lambda: ingest.post("/api/v1/ingest", second, NDJSON)[0], lambda s: s == 200, timeout=120)
    seen = read_topic(bootstrap, topics[0], lambda values: {v["id"] for v in values} >= first_ids | second_ids)
    assert {v["id"] for v in seen} >= first_ids | second_ids, "every record of both requests is on the topic"


def test_the_in_flight_bound_answers_429_instead_of_buffering(
        restartable_broker: LocalKafka, start_ingest: Callable[..., IngestProcess], topics: tuple[str, str]) -> None:
    bootstrap = restartable_broker.bootstrap_servers
    create_topics(bootstrap, *topics)
    ingest = start_ingest(ingest_env(bootstrap, *topics, LOGMONITOR_INGEST_MAX_IN_FLIGHT_BYTES="4096",
                                     LOGMONITOR_INGEST_PRODUCE_TIMEOUT="20s"))
    body, _ = batch(100)
    assert len(body) > 4096
    restartable_broker.stop()  # the first request now waits for Kafka, holding its bytes
    answers: list[int] = []
    waiting = threading.Thread(target=lambda: answers.append(ingest.post("/api/v1/ingest", body, NDJSON)[0]))
    waiting.start()
    wait_for(lambda: ingest.metric("logmonitor_ingest_bytes_in_flight"), lambda held: held >= len(body))
    status, headers, answer = ingest.post("/api/v1/ingest", b"{}", NDJSON)
    assert (status, orjson.loads(answer)["error"], headers["Retry-After"]) == (429, "busy", "1")
    restartable_broker.start()
    waiting.join(120)
    assert answers and answers[0] in (200, 503)
    wait_for(lambda: ingest.metric("logmonitor_ingest_bytes_in_flight"), lambda held: held == 0, timeout=60)
    assert wait_for(lambda: ingest.post("/api/v1/ingest", body, NDJSON)[0], lambda s: s == 200, timeout=60) == 200


def test_bodies_still_being_read_count_against_the_in_flight_bound(
        kafka_bootstrap: str, start_ingest: Callable[..., IngestProcess], topics: tuple[str, str]) -> None:
    bootstrap = kafka_bootstrap
    create_topics(bootstrap, *topics)
    ingest = start_ingest(ingest_env(bootstrap, *topics, LOGMONITOR_INGEST_MAX_IN_FLIGHT_BYTES=str(64 * 1024)))
    port = int(ingest.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:  # a shipper that stalls mid-body
        slow.sendall(b"POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
                     b"Content-Length: 1000000\r\n\r\n" + b" " * (60 * 1024))
        wait_for(lambda: ingest.metric("logmonitor_ingest_bytes_in_flight"), lambda held: held >= 60 * 1024)
        body, _ = batch(100)
        status, headers, answer = ingest.post("/api/v1/ingest", body, NDJSON)
        assert (status, orjson.loads(answer)["error"], headers["Retry-After"]) == (429, "busy", "1")
    wait_for(lambda: ingest.metric("logmonitor_ingest_bytes_in_flight"), lambda held: held == 0, timeout=60)
    assert ingest.post("/api/v1/ingest", body, NDJSON)[0] == 200, "the stalled body's bytes were given back"


def test_with_a_token_only_health_and_ready_answer_without_it(
        kafka_bootstrap: str, start_ingest: Callable[..., IngestProcess], topics: tuple[str, str]) -> None:
    create_topics(kafka_bootstrap, *topics)
    ingest = start_ingest(ingest_env(kafka_bootstrap, *topics, LOGMONITOR_INGEST_TOKEN="s3cret"))
    body, _ = batch(3)
    status, headers, answer = ingest.post("/api/v1/ingest", body, NDJSON)
    assert (status, orjson.loads(answer)["error"]) == (401, "unauthorized") and "WWW-Authenticate" in headers
    assert ingest.post("/api/v1/ingest", body, {**NDJSON, "Authorization": "Bearer wrong"})[0] == 401
    status, _, answer = ingest.post("/v1/logs", b"", {"Content-Type": "application/json"})
    assert status == 401 and orjson.loads(answer)["code"] == 16
    assert ingest.post("/api/v1/ingest", body, {**NDJSON, "Authorization": "Bearer s3cret"})[0] == 200
    basic = base64.b64encode(b"alloy:s3cret").decode()
    assert ingest.post("/api/v1/ingest", body, {**NDJSON, "Authorization": f"Basic {basic}"})[0] == 200
    assert ingest.metric("logmonitor_ingest_records_accepted_total", {"Authorization": "Bearer s3cret"}) == 6
    assert ready(ingest) == 200 and raw_request(ingest.url, "GET", "/health").status == 200


def test_no_broker_at_start_is_one_clear_line_not_a_traceback(topics: tuple[str, str]) -> None:
    env = ingest_env(f"127.0.0.1:{free_port()}", *topics, LOGMONITOR_BROKER_WAIT="1s")
    result = subprocess.run([sys.executable, "-m", "logmonitor", "ingest"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "no Kafka broker answers at 127.0.0.1:" in result.stderr and "Traceback" not in result.stderr


def test_a_network_address_without_a_token_refuses_to_start(topics: tuple[str, str]) -> None:
    env = ingest_env("127.0.0.1:1", *topics, LOGMONITOR_INGEST_HOST="0.0.0.0")
    result = subprocess.run([sys.executable, "-m", "logmonitor", "ingest"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "LOGMONITOR_INGEST_TOKEN" in result.stderr
