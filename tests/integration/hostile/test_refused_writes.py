"""R9: Kafka refuses a forwarded error, a dead letter or a changelog write for a while, then accepts it.

A refusal fixed while the worker sends the write again costs nothing. One that outlasts the
retries stops the worker before the source offset is committed; after the fix a restart
resumes there, and in the end nothing is missing and nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from logmonitor.server.delivery import EXIT_REFUSED
from logmonitor.server.topic_admin import MAX_MESSAGE_BYTES, set_topic_config
from logmonitor.settings import Settings
from tests.fixtures.traffic import LEVEL_CYCLE, log_record, produce, read_topic, read_topic_until

SERVICES = ("checkout", "search", "billing")
REFUSING_LIMIT = "2048"  # max.message.bytes while a topic refuses: the bulky record's write does not fit
ERROR_LEVELS = ("ERROR", "CRITICAL")


@dataclass
class Sent:
    """What the test produced: valid records and the keys of invalid ones."""

    valid: list[dict[str, Any]] = field(default_factory=list)
    invalid: int = 0

    def messages(self, records: list[dict[str, Any] | tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """Note ``records`` (dicts are valid records, pairs raw invalid ones) as Kafka messages."""
        messages = []
        for record in records:
            if isinstance(record, dict):
                self.valid.append(record)
                messages.append((record["service"].encode(), orjson.dumps(record)))
            else:
                self.invalid += 1
                messages.append(record)
        return messages

    def error_ids(self, service: str | None = None) -> set[str]:
        """The ids of the ERROR and CRITICAL records (of ``service``)."""
        return {r["id"] for r in self.valid if r["level"] in ERROR_LEVELS and service in (None, r["service"])}


def noise(size: int) -> str:
    """Text that does not compress: a write carrying it stays above the refusing limit."""
    return base64.b64encode(os.urandom(size)).decode()[:size]


def traffic(rng: random.Random, count: int) -> list[dict[str, Any] | tuple[bytes, bytes]]:
    """Records of every service and level, an invalid one in ten."""
    records: list[dict[str, Any] | tuple[bytes, bytes]] = []
    for i in range(count):
        service = SERVICES[i % len(SERVICES)]
        if i % 10 == 9:
            records.append((service.encode(), f"{{not json {i}".encode()))
        else:
            level = "CRITICAL" if i % 13 == 0 else LEVEL_CYCLE[rng.randrange(len(LEVEL_CYCLE))]
            records.append(log_record(service, level, f"event {i} failed after {rng.randrange(1000)} ms"))
    return records


def bulky(refusing: str) -> dict[str, Any] | tuple[bytes, bytes]:
    """A record whose write to the refusing topic is larger than the limit: an invalid one for the DLQ."""
    if refusing == "dlq":
        return b"bulky", b"\xff" + noise(6000).encode()  # not UTF-8: its dead letter carries it whole
    return log_record("bulky", "ERROR", noise(6000))


async def committed_and_ends(env: dict[str, str]) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """The worker group's committed offsets of the logs topic, and the topic's end offsets."""
    topic = env["LOGMONITOR_TOPIC_LOGS"]
    consumer = AIOKafkaConsumer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
                                group_id=env["LOGMONITOR_APP_ID"], enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(int(env["LOGMONITOR_PARTITIONS"]))]
        return {tp: await consumer.committed(tp) or 0 for tp in partitions}, await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def wait_until_all_committed(env: dict[str, str], timeout: float = 60.0) -> None:
    """Wait until the worker has committed every record of the logs topic."""
    deadline = time.monotonic() + timeout
    committed, ends = await committed_and_ends(env)
    while committed != ends and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        committed, ends = await committed_and_ends(env)
    assert committed == ends, "the worker commits up to the end once every write is accepted"


async def wait_until_counted(worker: Any, sent: Sent, timeout: float = 120.0) -> dict[str, Any]:
    """Poll the stats until every record produced is counted; return them."""
    deadline = time.monotonic() + timeout
    stats = worker.get_json("/api/v1/logs/stats")
    while (stats["total_logs"], stats["invalid_records"]) != (len(sent.valid), sent.invalid):
        assert time.monotonic() < deadline, f"not counted: {stats['total_logs']}, {stats['invalid_records']}"
        await asyncio.sleep(0.3)
        stats = worker.get_json("/api/v1/logs/stats")
    return stats


async def wait_for_exit(worker: Any, timeout: float) -> int:
    """The worker's exit status, once it stopped by itself."""
    deadline = time.monotonic() + timeout
    while (status := worker.process.poll()) is None:
        assert time.monotonic() < deadline, f"the worker went on:\n{worker.log_tail()}"
        await asyncio.sleep(0.2)
    return int(status)


def metric(worker: Any, series: str) -> float:
    """One series of the worker's Prometheus metrics (0 when absent)."""
    for line in worker.get_text("/metrics").splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


async def assert_nothing_missing_nothing_twice(worker: Any, sent: Sent) -> int:
    """Counts exact, every error forwarded and in its ring once, every invalid record dead-lettered.

    Returns:
        How many forwarded errors are copies (records read again after a restart are forwarded again).
    """
    env, bootstrap = worker.env, worker.env["KAFKA_BOOTSTRAP_SERVERS"]
    stats = await wait_until_counted(worker, sent)
    counted = {(s, level): n for s, levels in stats["by_service"].items() for level, n in levels.items()}
    assert counted == dict(Counter((r["service"], r["level"]) for r in sent.valid))
    errors = sent.error_ids()
    assert stats["total_errors"] == len(errors)

    def ids(records: list[ConsumerRecord]) -> set[str]:
        return {orjson.loads(record.value)["id"] for record in records}

    forwarded = await read_topic_until(bootstrap, env["LOGMONITOR_TOPIC_ERRORS"], lambda found: ids(found) >= errors)
    assert ids(forwarded) == errors, "the errors topic holds every error (readers de-duplicate by id)"

    def sources(records: list[ConsumerRecord]) -> set[tuple[int, int]]:
        letters = [orjson.loads(record.value)["source"] for record in records]
        return {(letter["partition"], letter["offset"]) for letter in letters}

    dead = await read_topic_until(bootstrap, env["LOGMONITOR_TOPIC_DLQ"],
                                  lambda found: len(sources(found)) >= sent.invalid)
    assert len(sources(dead)) == sent.invalid, "every invalid record is dead-lettered"

    groups = worker.get_json("/api/v1/logs/groups", limit=1000)["groups"]
    assert sum(group["count"] for group in groups) == len(errors)
    for service in {r["service"] for r in sent.valid if r["level"] in ERROR_LEVELS}:
        ring = [error["id"] for error in worker.get_json(f"/api/v1/logs/errors/{service}", limit=1000)["errors"]]
        assert len(ring) == len(set(ring)) and set(ring) == sent.error_ids(service), f"{service}'s recent errors"
    await wait_until_all_committed(env)
    return len(forwarded) - len(errors)


def refusing_topic(env: dict[str, str], refusing: str) -> str:
    """The topic a test case makes refuse: the errors topic, the DLQ, or the service-state changelog."""
    return {"errors": env["LOGMONITOR_TOPIC_ERRORS"], "dlq": env["LOGMONITOR_TOPIC_DLQ"],
            "changelog": f"{env['LOGMONITOR_APP_ID']}-service-state-changelog"}[refusing]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("refusing", ["errors", "dlq", "changelog"])
async def test_a_write_refused_past_the_retries_stops_the_worker_before_its_offset_is_committed(
        start_worker: Any, refusing: str) -> None:
    worker = start_worker(LOGMONITOR_SESSION_TIMEOUT="10s")  # the restart waits for the stopped member to time out
    worker.wait_healthy()
    env, rng, sent = worker.env, random.Random(17), Sent()
    bootstrap, topic, settings = env["KAFKA_BOOTSTRAP_SERVERS"], refusing_topic(env, refusing), Settings.from_env(env)
    await produce(bootstrap, env["LOGMONITOR_TOPIC_LOGS"], sent.messages(traffic(rng, 60)))
    await wait_until_counted(worker, sent)
    await wait_until_all_committed(env)

    await set_topic_config(settings, topic, {"max.message.bytes": REFUSING_LIMIT})
    produced = time.monotonic()
    await produce(bootstrap, env["LOGMONITOR_TOPIC_LOGS"], sent.messages([bulky(refusing), *traffic(rng, 60)]))
    assert await wait_for_exit(worker, timeout=120) == EXIT_REFUSED
    noticed = time.monotonic() - produced
    refusals = [line for line in worker.log_text().splitlines() if "Kafka refused a write" in line]
    assert len(refusals) == 1 and topic in refusals[0] and "without committing past it" in refusals[0], refusals

    logs = await read_topic(bootstrap, env["LOGMONITOR_TOPIC_LOGS"], len(sent.valid) + sent.invalid)
    where = next(record for record in logs if record.key == b"bulky")
    committed, _ends = await committed_and_ends(env)
    assert committed[TopicPartition(where.topic, where.partition)] <= where.offset, "committed past the refused write"

    await set_topic_config(settings, topic, {"max.message.bytes": str(MAX_MESSAGE_BYTES)})
    restarted = time.monotonic()
    worker.start()
    worker.wait_healthy(180)
    healthy = time.monotonic() - restarted
    copies = await assert_nothing_missing_nothing_twice(worker, sent)
    print(f"{refusing}: stopped {noticed:.1f} s after the records were produced; after the restart healthy in "
          f"{healthy:.1f} s, everything counted in {time.monotonic() - restarted:.1f} s; "
          f"{copies} forwarded errors sent again")


@pytest.mark.timeout(300)
async def test_a_refusal_fixed_while_the_worker_sends_again_costs_nothing(start_worker: Any) -> None:
    worker = start_worker()
    worker.wait_healthy()
    env, rng, sent = worker.env, random.Random(18), Sent()
    bootstrap, topic, settings = env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_ERRORS"], Settings.from_env(env)
    await set_topic_config(settings, topic, {"max.message.bytes": REFUSING_LIMIT})
    await produce(bootstrap, env["LOGMONITOR_TOPIC_LOGS"], sent.messages([bulky("errors"), *traffic(rng, 60)]))
    deadline = time.monotonic() + 30
    while "sending it again" not in worker.log_text():
        assert time.monotonic() < deadline, worker.log_tail()
        await asyncio.sleep(0.1)
    await set_topic_config(settings, topic, {"max.message.bytes": str(MAX_MESSAGE_BYTES)})
    copies = await assert_nothing_missing_nothing_twice(worker, sent)
    assert worker.process.poll() is None, "the worker went on"
    assert copies == 0
    assert metric(worker, f'logmonitor_send_failures_total{{topic="{topic}"}}') >= 1
    assert metric(worker, f'logmonitor_writes_refused_total{{topic="{topic}"}}') == 0
