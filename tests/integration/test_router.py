"""The router against a real worker and broker: routing, dead letters, tables, normalisation."""

from __future__ import annotations

import asyncio
import base64
import os
import time
import urllib.request
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from logmonitor.handler.redaction import FILTERED, REDACTED_HEADER, REDACTION_RULES
from logmonitor.pipeline.dead_letter import REDACTED_RAW_BYTES
from logmonitor.pipeline.records import MAX_RECORD_BYTES
from logmonitor.timestamps import iso_timestamp
from tests.fixtures.traffic import keyed, log_record, produce, read_topic, read_topic_until


def wait_for(worker: Any, path: str, done: Any, timeout: float = 60.0, **params: Any) -> Any:
    """Poll ``path`` until ``done(answer)`` holds; return the last answer."""
    deadline = time.monotonic() + timeout
    answer = worker.get_json(path, **params)
    while not done(answer) and time.monotonic() < deadline:
        time.sleep(0.3)
        answer = worker.get_json(path, **params)
    return answer


INVALID = {
    "not_json": b"{this is not json",
    "not_object": b"[1, 2, 3]",
    "bad_service": orjson.dumps({"level": "ERROR", "message": "who am I"}),
    "bad_level": orjson.dumps({"level": "FOO", "service": "booking", "message": "login password=hunter2"}),
    "oversized": orjson.dumps({"level": "INFO", "service": "booking", "message": "x" * (2 * 1024 * 1024)}),
    "not_utf8": b'{"level": "INFO", "service": "\xff\xfe", "message": "m"}',
    "future_timestamp": orjson.dumps({"level": "INFO", "service": "b", "message": "m",
                                      "timestamp": "2999-01-01T00:00:00Z"}),
    "stale_timestamp": orjson.dumps({"level": "INFO", "service": "b", "message": "m",
                                     "timestamp": "1999-01-01T00:00:00Z"}),
    "bad_line": orjson.dumps({"level": "INFO", "service": "b", "message": "m", "line": "forty-two"}),
}


@pytest.fixture(scope="module")
def worker(module_worker: Any) -> Any:
    """The module's worker, shared by the tests that only write records of their own services and read."""
    return module_worker


async def test_each_invalid_kind_lands_in_the_dlq_with_its_reason(worker: Any) -> None:
    env = worker.env
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    await produce(bootstrap, env["LOGMONITOR_TOPIC_LOGS"],
                  [(kind.encode(), raw) for kind, raw in INVALID.items()]
                  + keyed([log_record("dlq-neighbour", "INFO", "still alive")]))
    dead = await read_topic(bootstrap, env["LOGMONITOR_TOPIC_DLQ"], len(INVALID))
    letters = {record.key.decode(): orjson.loads(record.value) for record in dead}
    assert set(letters) == set(INVALID)
    for kind, letter in letters.items():
        assert letter["reason"].startswith(kind), letter["reason"]
        assert letter["source"]["topic"] == env["LOGMONITOR_TOPIC_LOGS"]
        raw = letter["raw"].encode() if letter["raw_encoding"] == "utf-8" else base64.b64decode(letter["raw"])
        # No handler sent them: each copy is redacted, of at most what the redactor reads.
        assert raw == INVALID[kind][:REDACTED_RAW_BYTES].replace(b"hunter2", FILTERED.encode())
        assert letter["raw_redacted"] is True
        assert letter.get("raw_bytes") == (len(INVALID[kind]) if kind == "oversized" else None)
    stats = wait_for(worker, "/api/v1/logs/stats", lambda s: "dlq-neighbour" in s["by_service"])
    assert stats["by_service"]["dlq-neighbour"] == {"INFO": 1}
    assert stats["invalid_records"] == len(INVALID), "no other test of the module writes invalid records"
    assert "Restarting" not in worker.log_text() and "crash" not in worker.log_text().lower()


async def test_errors_are_forwarded_normalised_with_a_fingerprint(worker: Any) -> None:
    env = worker.env
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    records = [log_record("charging", level, f"charge {i} failed") for i, level in
               enumerate(["INFO", "ERROR", "WARNING", "CRITICAL", "DEBUG", "ERROR"])]
    await produce(bootstrap, env["LOGMONITOR_TOPIC_LOGS"], keyed(records))
    ours = {r["id"] for r in records}

    def mine(got: list[Any]) -> list[Any]:
        return [record for record in got if orjson.loads(record.value)["id"] in ours]

    forwarded = mine(await read_topic_until(bootstrap, env["LOGMONITOR_TOPIC_ERRORS"], lambda got: len(mine(got)) >= 3))
    values = [orjson.loads(record.value) for record in forwarded]
    assert sorted(v["id"] for v in values) == sorted(r["id"] for r in records if r["level"] in ("ERROR", "CRITICAL"))
    assert {record.key for record in forwarded} == {b"charging"}
    assert len({v["fingerprint"] for v in values}) == 1, "one bug (numbers masked) is one group"


async def test_ecs_and_otel_records_are_counted_like_native_ones(worker: Any) -> None:
    env = worker.env
    now = time.time()
    ecs = {"@timestamp": iso_timestamp(now), "log": {"level": "ERROR"}, "service": {"name": "java-svc"},
           "message": "NullPointerException in handler", "error": {"type": "NPE", "stack_trace": "at X.y"}}
    otel = {"timeUnixNano": str(int(now * 1e9)), "severityText": "WARN", "body": {"stringValue": "slow"},
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "go-svc"}}]}}
    await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"],
                  [(b"java-svc", orjson.dumps(ecs)), (b"go-svc", orjson.dumps(otel))])
    stats = wait_for(worker, "/api/v1/logs/stats", lambda s: {"go-svc", "java-svc"} <= set(s["by_service"]))
    assert (stats["by_service"]["go-svc"], stats["by_service"]["java-svc"]) == ({"WARNING": 1}, {"ERROR": 1})
    errors = worker.get_json("/api/v1/logs/errors/java-svc")["errors"]
    assert errors[0]["exception"]["type"] == "NPE" and errors[0]["message"] == "NullPointerException in handler"


async def test_tables_count_services_levels_groups_and_windows(worker: Any) -> None:
    env = worker.env
    before = wait_for(worker, "/api/v1/logs/stats", lambda s: True)  # the module's other tests wrote theirs
    records = [log_record("booking", "INFO", "ok") for _ in range(30)]
    records += [log_record("booking", "ERROR", f"Seat {i} taken", exception={"type": "Conflict"}) for i in range(5)]
    records += [log_record("payment", "CRITICAL", "Card 4 declined") for _ in range(2)]
    await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], keyed(records))
    stats = wait_for(worker, "/api/v1/logs/stats", lambda s: s["total_logs"] == before["total_logs"] + 37)
    assert stats["by_level"]["INFO"] - before["by_level"]["INFO"] == 30
    assert stats["total_errors"] - before["total_errors"] == 7
    assert stats["errors_last_hour"] - before["errors_last_hour"] == 7
    assert stats["errors_last_minute"] >= 7, "this test's errors are in the last minute (earlier ones may be too)"
    groups = [g for service in ("booking", "payment") for g in worker.get_json("/api/v1/logs/groups",
                                                                                service=service)["groups"]]
    assert sorted((g["service"], g["count"]) for g in groups) == [("booking", 5), ("payment", 2)]
    services = {s["name"]: s for s in worker.get_json("/api/v1/logs/services")["services"]}
    assert services["booking"]["totals"] == {"INFO": 30, "ERROR": 5}
    assert services["booking"]["hosts"] == ["booking-1"]
    recent = worker.get_json("/api/v1/logs/errors", service="booking", limit=3)
    assert recent["count"] == 3
    assert [e["message"] for e in recent["errors"]] == ["Seat 4 taken", "Seat 3 taken", "Seat 2 taken"]
    assert worker.get_json("/api/v1/logs/errors", q="DECLINED")["count"] == 2


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
async def test_counts_survive_a_restart_without_double_counting(start_worker: Any, store: str) -> None:
    worker = start_worker(LOGMONITOR_STORE=store)
    worker.wait_healthy()
    env = worker.env
    await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"],
                  keyed([log_record("notification", "ERROR", "smtp down") for _ in range(50)]))
    wait_for(worker, "/api/v1/logs/stats", lambda s: s["total_logs"] == 50)
    worker.restart()
    worker.wait_healthy()
    stats = worker.get_json("/api/v1/logs/stats")
    assert stats["total_logs"] == 50 and stats["errors_last_hour"] == 50
    assert len({e["id"] for e in worker.get_json("/api/v1/logs/errors", limit=1000)["errors"]}) == 50


def read_metrics(worker: Any, *names: str) -> dict[str, float]:
    """The series of the worker's /metrics whose name is one of ``names`` (labels included in the key)."""
    with urllib.request.urlopen(worker.url + "/metrics", timeout=10) as response:
        lines = response.read().decode().splitlines()
    return {series: float(value) for series, value in (line.rsplit(" ", 1) for line in lines
                                                        if line.split("{", 1)[0].split(" ", 1)[0] in names)}


def window_metrics(worker: Any) -> dict[str, float]:
    """The ``logmonitor_windows_*`` figures from the worker's /metrics."""
    return read_metrics(worker, "logmonitor_windows_expired_total", "logmonitor_windows_held")


async def wait_for_sweep(worker: Any, *, expired: bool, timeout: float = 90.0) -> None:
    """Wait until a sweep leaves only the fresh window (and, if ``expired``, has dropped an old one)."""
    deadline = time.monotonic() + timeout
    while True:
        figures = window_metrics(worker)
        swept_old = figures["logmonitor_windows_expired_total"] >= 1 or not expired
        if figures["logmonitor_windows_held"] == 1 and swept_old:
            return
        assert time.monotonic() < deadline, f"the sweep did not expire the old window: {figures}"
        await asyncio.sleep(1.0)


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
async def test_windows_past_the_retention_expire_also_after_recovery(start_worker: Any, store: str) -> None:
    worker = start_worker(LOGMONITOR_WINDOW_RETENTION="2m", LOGMONITOR_STORE=store)
    worker.wait_healthy()
    env = worker.env
    old = iso_timestamp(time.time() - 600)
    records = [log_record("search", "ERROR", "index stale", timestamp=old) for _ in range(4)]
    records += [log_record("search", "ERROR", "index missing") for _ in range(3)]
    await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], keyed(records))
    stats = wait_for(worker, "/api/v1/logs/stats", lambda s: s["total_logs"] == 7)
    assert stats["total_errors"] == 7, "all-time totals keep everything"
    assert stats["errors_last_hour"] == 3, "windows past the retention are not counted"
    await wait_for_sweep(worker, expired=True)

    worker.restart()
    worker.wait_healthy()
    assert worker.get_json("/api/v1/logs/stats")["errors_last_hour"] == 3
    # memory:// recovers the old window from the changelog (faust #385) and must drop it again;
    # rocksdb:// keeps its local state, where the sweep already deleted it.
    await wait_for_sweep(worker, expired=store == "memory://")


async def test_records_between_transaction_markers_are_all_counted_and_committed(start_worker: Any) -> None:
    """Each committed transaction leaves a marker offset: a real gap, taken only once confirmed."""
    worker = start_worker()
    worker.wait_healthy()
    bootstrap, topic = worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"{topic}-tx")
    await producer.start()
    try:
        for batch in range(4):
            async with producer.transaction():
                for i in range(50):
                    await producer.send(topic, orjson.dumps(log_record("tx", "INFO", f"{batch}-{i}")), key=b"tx")
    finally:
        await producer.stop()
    stats = wait_for(worker, "/api/v1/logs/stats", lambda s: s["total_logs"] >= 200)
    assert stats["by_service"] == {"tx": {"INFO": 200}}

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=worker.env["LOGMONITOR_APP_ID"],
                                enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(4)]
        ends = await consumer.end_offsets(partitions)
        # The last marker is passed only once a record follows it, as with any Kafka consumer.
        wanted = {tp: max(0, end - 1) for tp, end in ends.items()}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            committed = {tp: await consumer.committed(tp) or 0 for tp in partitions}
            if committed == wanted:
                break
            await asyncio.sleep(0.5)
        assert committed == wanted, "the worker commits past the markers between records"
    finally:
        await consumer.stop()


async def test_an_error_just_under_the_size_limit_is_stored_forwarded_and_recovered(start_worker: Any) -> None:
    """A 1 MiB error must not become a changelog or forwarded message the broker refuses.

    It comes marked as redacted by our handler, so the router takes it whole (another producer's
    record would be cut to 64 KiB per text field before redaction).
    """
    worker = start_worker()
    worker.wait_healthy()
    env = worker.env
    huge = log_record("upload", "ERROR", "", exception={"type": "Overflow", "stacktrace": ""})
    room = MAX_RECORD_BYTES - len(orjson.dumps(huge))
    noise = base64.b64encode(os.urandom(room)).decode()[:room]  # text that does not compress
    huge["message"], huge["exception"]["stacktrace"] = noise[:room // 2], noise[room // 2:]
    assert len(orjson.dumps(huge)) == MAX_RECORD_BYTES
    after = log_record("upload", "ERROR", "small one")
    await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], keyed([huge, after]),
                  headers=[(REDACTED_HEADER, REDACTION_RULES)])
    forwarded = await read_topic(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_ERRORS"], 2)
    assert sorted(orjson.loads(r.value)["id"] for r in forwarded) == sorted([huge["id"], after["id"]])
    recent = wait_for(worker, "/api/v1/logs/errors/upload", lambda a: a.get("count") == 2)
    assert [e["id"] for e in recent["errors"]] == [after["id"], huge["id"]]
    worker.restart()
    worker.wait_healthy()
    recovered = worker.get_json("/api/v1/logs/errors/upload")
    assert [e["id"] for e in recovered["errors"]] == [after["id"], huge["id"]]
    assert "MessageSizeTooLarge" not in worker.log_text()
