"""Records of a service spread over partitions (unkeyed, explicit partitions, Collector batches, our producers):
counted, grouped and kept on its home partition only, each once, a repeated forward too."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faust.serializers import codecs

from logmonitor.engine.json_codec import CODEC
from logmonitor.handler import KafkaLogHandler
from logmonitor.home_partition import home_partition
from logmonitor.pipeline.repartition import Forwards
from logmonitor.pipeline.tables.service_state import profile_key
from tests.fixtures.ingest import IngestProcess, worker_ingest_env
from tests.fixtures.otlp import encoded, export_request
from tests.fixtures.otlp import log_record as otlp_record
from tests.fixtures.receivers import WebhookReceiver
from tests.fixtures.traffic import log_record
from tests.integration.test_router import wait_for
from tests.integration.test_triage import alerts, crash, rules_file, send, wait_until

pytestmark = pytest.mark.integration

PARTITIONS = 4  # the test workers'
Placed = tuple[int | None, bytes | None, bytes]  # (partition or None, key, value)


@pytest.fixture(scope="module")
def worker(module_worker: Any) -> Any:
    """The module's worker: each test writes records of its own services."""
    return module_worker


async def produce_placed(bootstrap: str, topic: str, messages: Iterable[Placed],
                         headers: list[tuple[str, bytes]] | None = None) -> None:
    """Send each message to its partition (None: the producer's choice) and wait for every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, value, key=key, partition=partition, headers=headers)
                               for partition, key, value in messages])
    finally:
        await producer.stop()


def error(service: str, message: str, kind: str) -> dict[str, Any]:
    return log_record(service, "ERROR", message, exception={"type": kind, "message": message, "stacktrace": None})


def collector_batch(service: str, pods: int, errors: int) -> bytes:
    """A Collector's Kafka export: ``pods`` resources of ``service`` (hosts differ), 5 records and ``errors`` each."""
    request = None
    for pod in range(pods):
        records = [otlp_record(f"served {n}") for n in range(5)] + [
            otlp_record("upstream timeout", severity=17, attributes={"exception.type": "Timeout"})
            for _ in range(errors)]
        one = export_request(records, service=service, resource={"host.name": f"pod-{pod}"})
        if request is None:
            request = one
        else:
            request.resource_logs.extend(one.resource_logs)
    assert request is not None
    return encoded(request, "proto")


def state_partitions(bootstrap: str, app_id: str, services: Iterable[str]) -> dict[str, set[int]]:
    """The partitions of the service-state changelog holding each service's profile (once each is somewhere)."""
    keys = {codecs.dumps(CODEC, profile_key(service)): service for service in services}

    async def read() -> dict[str, set[int]]:
        topic = f"{app_id}-service-state-changelog"
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            found: dict[str, set[int]] = {service: set() for service in keys.values()}
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                    for record in records:
                        for key, service in keys.items():
                            if record.key == key:
                                found[service].add(tp.partition)
            return found
        finally:
            await consumer.stop()

    deadline = time.monotonic() + 60
    while not all((found := asyncio.run(read())).values()) and time.monotonic() < deadline:
        time.sleep(0.5)  # table writes reach the changelog by the next commit
    return found


def groups_of(worker: Any, service: str) -> list[dict[str, Any]]:
    return worker.get_json("/api/v1/logs/groups", service=service, limit=1000)["groups"]  # type: ignore[no-any-return]


def test_a_service_spread_by_every_kind_of_producer_is_counted_and_grouped_exactly_on_its_home(
        worker: Any, tmp_path: Path, start_ingest: Callable[[dict[str, str]], IngestProcess]) -> None:
    env = worker.env
    bootstrap, topic = env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"]
    unkeyed, pinned, collected = (f"{name}-{uuid.uuid4().hex[:6]}" for name in ("unkeyed", "pinned", "collected"))
    messages: list[Placed] = []
    for n in range(40):  # no key: the producer spreads them
        messages.append((None, None, orjson.dumps(log_record(unkeyed, "INFO", f"served {n}"))))
    for n in range(12):
        messages.append((None, None, orjson.dumps(error(unkeyed, f"order {n} failed", "OrderError"))))
    for n in range(40):  # keyed, but written to every partition in turn
        messages.append((n % PARTITIONS, pinned.encode(), orjson.dumps(log_record(pinned, "INFO", f"ok {n}"))))
    for n in range(16):
        kind = "CardError" if n % 2 else "GatewayError"
        messages.append((n % PARTITIONS, pinned.encode(), orjson.dumps(error(pinned, f"charge {n} failed", kind))))
    for partition in range(PARTITIONS):  # a Collector's pods export to every partition
        messages.append((partition, None, collector_batch(collected, pods=2, errors=1)))
    asyncio.run(produce_placed(bootstrap, topic, messages))

    handler = KafkaLogHandler(bootstrap, service=pinned, topic=topic, spool_dir=tmp_path / "spool")
    log = logging.getLogger(f"test.repartition.{pinned}")
    log.propagate, log.level = False, logging.INFO
    log.addHandler(handler)
    try:
        for n in range(5):
            log.warning("slow answer %d", n)
        assert handler.flush(15) is None
    finally:
        log.removeHandler(handler)
        handler.close()
    ingest = start_ingest(worker_ingest_env(worker))
    lines = [orjson.dumps(log_record(pinned, "WARNING", f"retrying {n}")) for n in range(5)]
    status, _, answer = ingest.post("/api/v1/ingest", b"\n".join(lines), {"Content-Type": "application/x-ndjson"})
    assert status == 200, answer

    expected = {unkeyed: {"INFO": 40, "ERROR": 12}, pinned: {"INFO": 40, "ERROR": 16, "WARNING": 10},
                collected: {"INFO": 5 * 2 * PARTITIONS, "ERROR": 2 * PARTITIONS}}
    stats = wait_for(worker, "/api/v1/logs/stats",
                     lambda s: all(s["by_service"].get(service) == totals for service, totals in expected.items()))
    assert {service: stats["by_service"].get(service) for service in expected} == expected
    counted = {service: sorted(group["count"] for group in groups_of(worker, service)) for service in expected}
    assert counted == {unkeyed: [12], pinned: [8, 8], collected: [2 * PARTITIONS]}, "one group per bug, counted once"
    errors = worker.get_json("/api/v1/logs/errors", limit=1000)["errors"]
    ids = [e["id"] for e in errors if e["service"] in expected]
    assert len(ids) == len(set(ids)) == 12 + 16 + 2 * PARTITIONS, "every error once in the API"
    homes = state_partitions(bootstrap, env["LOGMONITOR_APP_ID"], expected)
    assert homes == {service: {home_partition(service, PARTITIONS)} for service in expected}, "its state on its home"


def test_a_forward_written_twice_is_counted_once(worker: Any) -> None:
    env = worker.env
    bootstrap, topic = env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"]
    service = f"twice-{uuid.uuid4().hex[:6]}"
    home = home_partition(service, PARTITIONS)
    source = (home + 1) % PARTITIONS
    records = [log_record(service, "INFO", "once"), error(service, "failed once", "OnceError")]
    repartition = f"{topic}-repartition"
    both, last = Forwards(topic, source), Forwards(topic, source)  # as a crash leaves them: forwarded again
    for offset, record in enumerate(records, start=1_000_000):
        for forwards in (both, last) if offset > 1_000_000 else (both,):
            forwards.add(home, None, orjson.dumps(record), [], offset, None)
    for forwards in (both, both, last):
        for key, value, partition, headers in forwards.messages():
            asyncio.run(produce_placed(bootstrap, repartition, [(partition, key, value)], headers))
    marker = log_record(service, "WARNING", "after them")  # read after the forwards: they are all counted by then
    asyncio.run(produce_placed(bootstrap, topic, [(home, service.encode(), orjson.dumps(marker))]))
    stats = wait_for(worker, "/api/v1/logs/stats", lambda s: "WARNING" in s["by_service"].get(service, {}))
    assert stats["by_service"][service] == {"INFO": 1, "ERROR": 1, "WARNING": 1}
    assert [group["count"] for group in groups_of(worker, service)] == [1]


def spread(records: list[dict[str, Any]], start: int = 0) -> list[Placed]:
    """The records unkeyed, the ``i``-th to partition ``(start + i) % PARTITIONS``: every partition gets some."""
    return [((start + i) % PARTITIONS, None, orjson.dumps(record)) for i, record in enumerate(records)]


def test_two_workers_while_partitions_move_count_spread_records_exactly_and_triage_them_across_partitions(
        start_worker: Callable[..., Any], tmp_path: Path, webhook_receiver: WebhookReceiver) -> None:
    rules = rules_file(tmp_path, webhook_receiver.url, "  - {name: back, kind: regression, cooldown: 1s}\n")
    first = start_worker(LOGMONITOR_ALERT_RULES=rules, LOGMONITOR_ALERT_INTERVAL="500ms")
    first.wait_healthy()
    bootstrap, topic = first.env["KAFKA_BOOTSTRAP_SERVERS"], first.env["LOGMONITOR_TOPIC_LOGS"]
    services = [f"moving-{n}" for n in range(6)]
    records = [crash(service, n) if n % 4 == 0 else log_record(service, "INFO", f"served {n}")
               for n in range(40) for service in services]
    asyncio.run(produce_placed(bootstrap, topic, spread(records[:120])))
    shared = {k: v for k, v in first.env.items() if k.startswith("LOGMONITOR_TOPIC") or k == "LOGMONITOR_APP_ID"}
    second = start_worker(LOGMONITOR_ALERT_RULES=rules, LOGMONITOR_ALERT_INTERVAL="500ms", **shared)
    asyncio.run(produce_placed(bootstrap, topic, spread(records[120:], start=1)))  # while the partitions move
    second.wait_healthy()

    expected = {service: {"INFO": 30, "ERROR": 10} for service in services}
    for worker in (first, second):
        stats = wait_for(worker, "/api/v1/logs/stats", lambda s: {
            service: s["by_service"].get(service) for service in services} == expected, timeout=120)
        assert {service: stats["by_service"].get(service) for service in services} == expected
    groups = wait_until(lambda: when(groups_of_all(second), lambda listed: len(listed) == len(services)),
                        60, "a group per service")
    assert sorted((group["service"], group["count"]) for group in groups) == [(service, 10) for service in services]
    assert groups_of_all(first) == groups, "either worker answers the same, each service once"
    errors = first.get_json("/api/v1/logs/errors", limit=1000)
    assert errors["count"] == 60 and len({error["id"] for error in errors["errors"]}) == 60
    assert errors == second.get_json("/api/v1/logs/errors", limit=1000)

    group = next(group for group in groups if group["service"] == services[0])
    code, answer = send(first, "PATCH", f"/api/v1/logs/groups/{group['id']}", orjson.dumps({"status": "resolved"}))
    # 202 is the truthful answer while partitions move: the owner has not confirmed it yet, and it lands
    assert code in (200, 202), answer
    wait_until(lambda: second.get_json(f"/api/v1/logs/groups/{group['id']}")["status"] == "resolved", 60,
               "the resolve applied by the group's owner")
    asyncio.run(produce_placed(bootstrap, topic, spread([crash(services[0], 100 + n) for n in range(PARTITIONS)])))
    wait_until(lambda: alerts(webhook_receiver, "back"), 60, "the regression alert")
    shown = wait_until(lambda: when(second.get_json(f"/api/v1/logs/groups/{group['id']}"),
                                    lambda answer: answer["count"] == 10 + PARTITIONS), 60, "every new event counted")
    assert shown["status"] == "regressed" and [entry["why"] for entry in shown["history"]] == ["request", "regression"]
    time.sleep(3)  # six more evaluations: none may send the same reopening again
    (alert,) = alerts(webhook_receiver, "back")
    assert alert["service"] == services[0] and alert["count"] == 1


def groups_of_all(worker: Any) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = worker.get_json("/api/v1/logs/groups", limit=1000)["groups"]
    return listed


def when(answer: Any, ready: Callable[[Any], bool]) -> Any:
    """``answer`` if it is ``ready``, else None (for ``wait_until``)."""
    return answer if ready(answer) else None
