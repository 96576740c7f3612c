"""R11: records spread over every partition stay exact through three SIGKILLs of the worker.

Forwards written again after a kill are counted once at the home partition. The kill moments are
random; the test prints its seed (replay: ``LOGMONITOR_TEST_SEED=N pytest ... -s``).
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures.kills import by_service_and_level, kill_seed, kill_three_times, stats_once_counted
from tests.fixtures.traffic import LEVEL_CYCLE, log_record

pytestmark = pytest.mark.kills  # after the others, two at a time: its records flow at a set pace

TOTAL = 120_000
PER_SECOND = 2_700  # about 45 s of records, through the three kills and restarts
PARTITIONS = 4  # the test workers'
SERVICES = ("usermanagement", "booking", "notification", "payment", "search")


async def produce_spread(bootstrap: str, topic: str, records: list[dict[str, Any]], per_second: float) -> int:
    """Send the records unkeyed, the ``i``-th to partition ``i % PARTITIONS``, at ``per_second``; how many."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    started, step = time.monotonic(), int(per_second / 10)
    try:
        for first in range(0, len(records), step):
            chunk = records[first:first + step]
            await asyncio.gather(*[await producer.send(topic, orjson.dumps(record), partition=(first + i) % PARTITIONS)
                                   for i, record in enumerate(chunk)])
            await asyncio.sleep(max(0.0, started + (first + len(chunk)) / per_second - time.monotonic()))
    finally:
        await producer.stop()
    return len(records)


@pytest.mark.timeout(900)
async def test_three_kills_while_spread_records_are_read_keep_every_count_exact(start_worker: Any) -> None:
    worker = start_worker()
    worker.wait_healthy()
    env = worker.env
    rng = random.Random(11)
    records = [log_record(SERVICES[i % len(SERVICES)], LEVEL_CYCLE[rng.randrange(len(LEVEL_CYCLE))],
                          f"event {i} in {rng.choice(['db', 'cache', 'api'])}") for i in range(TOTAL)]
    expected = Counter((r["service"], r["level"]) for r in records)
    producing = asyncio.create_task(produce_spread(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"],
                                                   records, PER_SECOND))
    kills = await kill_three_times(worker, random.Random(kill_seed()), TOTAL)
    assert await producing == TOTAL and kills == 3

    await stats_once_counted(worker, TOTAL)
    await asyncio.sleep(3)  # anything counted twice would show by now
    stats = worker.get_json("/api/v1/logs/stats")
    assert stats["total_logs"] == TOTAL
    assert by_service_and_level(stats) == dict(expected)
    errors = sum(n for (_s, level), n in expected.items() if level == "ERROR")
    assert stats["total_errors"] == stats["errors_last_hour"] == errors, "windowed counts are exact too"
    groups = worker.get_json("/api/v1/logs/groups", limit=1000)["groups"]
    assert sum(group["count"] for group in groups) == errors
    bugs = {(r["service"], r["message"].rsplit(" ", 1)[1]) for r in records if r["level"] == "ERROR"}
    assert len(groups) == len(bugs), "one group per bug: a service and where it failed (db, cache, api)"
    for service in SERVICES:
        ring = worker.get_json(f"/api/v1/logs/errors/{service}", limit=1000)["errors"]
        ids = [error["id"] for error in ring]
        assert len(ids) == len(set(ids)) == min(1000, expected[(service, "ERROR")]), f"{service}: ring"


@pytest.mark.timeout(900)
async def test_two_workers_one_killed_while_spread_records_are_read_keep_every_count_exact(
        start_worker: Any) -> None:
    first = start_worker()
    first.wait_healthy()
    env = first.env
    shared = {k: v for k, v in env.items() if k.startswith("LOGMONITOR_TOPIC") or k == "LOGMONITOR_APP_ID"}
    rng = random.Random(13)
    records = [log_record(SERVICES[i % len(SERVICES)], LEVEL_CYCLE[rng.randrange(len(LEVEL_CYCLE))],
                          f"event {i} in {rng.choice(['db', 'cache', 'api'])}") for i in range(TOTAL // 2)]
    expected = Counter((r["service"], r["level"]) for r in records)
    producing = asyncio.create_task(produce_spread(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"],
                                                   records, PER_SECOND))
    await asyncio.sleep(3)
    second = start_worker(**shared)  # partitions move to it while spread records are read
    await asyncio.to_thread(second.wait_healthy, 180)
    await asyncio.sleep(2)
    counted = first.get_json("/api/v1/logs/stats")["total_logs"]
    second.kill(signal.SIGKILL)  # and back to the first, forwards half done
    print(f"second worker killed: {counted} of {len(records)} records counted")
    assert counted < len(records), "the kill came after every record was counted"
    second.restart()
    await asyncio.to_thread(second.wait_healthy, 180)
    assert await producing == len(records)

    errors = sum(n for (_s, level), n in expected.items() if level == "ERROR")
    for worker in (first, second):
        deadline = time.monotonic() + 300
        stats: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                stats = worker.get_json("/api/v1/logs/stats")
            except OSError:  # 503 while the group rebalances
                stats = {}
            if stats.get("total_logs") == len(records):
                break
            await asyncio.sleep(1.0)
        await asyncio.sleep(2)  # anything counted twice would show by now
        stats = worker.get_json("/api/v1/logs/stats")
        assert by_service_and_level(stats) == dict(expected)
        assert stats["total_errors"] == errors
        errors_listed = worker.get_json("/api/v1/logs/errors", limit=1000)
        ids = [error["id"] for error in errors_listed["errors"]]
        assert len(ids) == len(set(ids)) == min(1000, errors), "no error twice in the API"
