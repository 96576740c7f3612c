"""R1: counts stay exact and no error appears twice when the worker is killed -9 mid-stream.

The moments of the kills are random; the test prints its seed (tests/fixtures/kills.py says how to
replay a failure with the same kill moments).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import pytest

from tests.fixtures.kills import by_service_and_level, kill_seed, kill_three_times, stats_once_counted
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

    stats = await stats_once_counted(worker, TOTAL)
    assert stats["total_logs"] == TOTAL
    assert by_service_and_level(stats) == dict(expected)
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
