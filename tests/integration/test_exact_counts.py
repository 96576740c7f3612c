"""R1: counts stay exact and no error appears twice when the worker is killed -9 mid-stream.

The moments of the kills are random; the test prints its seed ("kill seed: N"). To replay a failure
with the same kill moments:
    LOGMONITOR_TEST_SEED=N pytest tests/integration/test_exact_counts.py -s
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections import Counter
from typing import Any

import pytest

from tests.fixtures.traffic import LEVEL_CYCLE, keyed, log_record, produce

TOTAL = 200_000
PER_SECOND = 4_500  # the records flow for about 45 s, through the three kills and restarts
SERVICES = ("usermanagement", "booking", "notification", "payment", "search")


def make_records() -> list[dict[str, Any]]:
    rng = random.Random(7)
    return [
        log_record(SERVICES[i % len(SERVICES)], LEVEL_CYCLE[rng.randrange(len(LEVEL_CYCLE))],
                   f"event {i} in {rng.choice(['db', 'cache', 'api'])}")
        for i in range(TOTAL)
    ]


def kill_seed() -> int:
    """LOGMONITOR_TEST_SEED to replay a run, else a fresh one; printed either way (pytest shows it on failure)."""
    seed = int(os.environ.get("LOGMONITOR_TEST_SEED") or time.time_ns())
    print(f"kill seed: {seed} (replay with LOGMONITOR_TEST_SEED={seed})")
    return seed


async def kill_three_times(worker: Any, rng: random.Random, total: int) -> int:
    """SIGKILL the worker at three random moments while it processes; restart it each time.

    Each kill prints how many of the ``total`` records were counted at that moment, and fails
    when all were: a kill after the last record was counted would prove nothing.
    """
    kills = 0
    for _ in range(3):
        await asyncio.sleep(rng.uniform(2.0, 6.0))
        counted = worker.get_json("/api/v1/logs/stats")["total_logs"]
        worker.kill(signal.SIGKILL)
        kills += 1
        print(f"kill {kills}: {counted} of {total} records counted")
        assert counted < total, f"kill {kills} came after every record was counted"
        worker.restart()
        await asyncio.to_thread(worker.wait_healthy, 180)
    return kills


pytestmark = pytest.mark.kills  # after the others, two at a time: its records flow at a set pace


@pytest.mark.timeout(900)
async def test_kill_minus_nine_three_times_keeps_every_count_exact(start_worker: Any) -> None:
    worker = start_worker()
    worker.wait_healthy()
    env = worker.env
    records = make_records()
    expected = Counter((r["service"], r["level"]) for r in records)
    producing = asyncio.create_task(produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"],
                                            keyed(records), per_second=PER_SECOND))
    kills = await kill_three_times(worker, random.Random(kill_seed()), TOTAL)
    assert await producing == TOTAL and kills == 3

    deadline = time.monotonic() + 400
    stats = worker.get_json("/api/v1/logs/stats")
    started = time.monotonic()
    while stats["total_logs"] < TOTAL and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        stats = worker.get_json("/api/v1/logs/stats")
        print(f"{time.monotonic() - started:6.1f}s after the third restart: {stats['total_logs']} counted")

    assert stats["total_logs"] == TOTAL
    assert {(s, lvl): n for s, levels in stats["by_service"].items() for lvl, n in levels.items()} == dict(expected)
    errors = sum(n for (_s, level), n in expected.items() if level == "ERROR")
    assert stats["total_errors"] == errors
    assert stats["errors_last_hour"] == errors, "windowed counts are exact too"
    groups = worker.get_json("/api/v1/logs/groups", limit=1000)["groups"]
    assert sum(group["count"] for group in groups) == errors
    for service in SERVICES:
        ring = worker.get_json(f"/api/v1/logs/errors/{service}", limit=1000)["errors"]
        ids = [error["id"] for error in ring]
        assert len(ids) == len(set(ids)), f"{service}: an error appears twice in the ring"
        assert len(ids) == min(1000, expected[(service, "ERROR")])
