"""R1 for OTLP batches on application-logs: exact counts after kill -9 (one source offset, many records).

The batches are keyed by service, as a Collector sends them with ``partition_logs_by_resource_attributes``
and one service per resource: each service's records arrive on one partition, whose owner counts them.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import pytest

from tests.fixtures.kills import by_service_and_level, kill_seed, kill_three_times, stats_once_counted
from tests.fixtures.otlp import encoded, export_request, log_record
from tests.fixtures.traffic import produce

SERVICES = ("checkout", "search", "payment")
LEVELS = {9: "INFO", 13: "WARNING", 17: "ERROR"}
BATCHES, PER_BATCH = 1_500, 100  # 150,000 records: the worker is busy through three kills
PER_SECOND = 35  # batches: they flow for about 43 s


def collector_messages() -> tuple[list[tuple[bytes | None, bytes]], Counter[tuple[str, str]]]:
    """The batches (alternating encodings, each keyed by its service) and the counts they make."""
    rng, messages, expected = random.Random(11), [], Counter[tuple[str, str]]()
    for number in range(BATCHES):
        service = SERVICES[number % len(SERVICES)]
        severities = [rng.choice((9, 9, 9, 9, 13, 17)) for _ in range(PER_BATCH)]
        expected.update((service, LEVELS[severity]) for severity in severities)
        request = export_request([log_record(f"event {number}-{i}", severity=severity)
                                  for i, severity in enumerate(severities)], service=service)
        messages.append((service.encode(), encoded(request, "proto" if number % 2 else "json")))
    return messages, expected


pytestmark = pytest.mark.kills  # after the others, two at a time: its records flow at a set pace


@pytest.mark.timeout(900)
async def test_kill_minus_nine_during_collector_batches_keeps_every_count_exact(start_worker: Any) -> None:
    worker = start_worker()
    worker.wait_healthy()
    env = worker.env
    messages, expected = collector_messages()
    total = BATCHES * PER_BATCH
    producing = asyncio.create_task(produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], messages,
                                            per_second=PER_SECOND))
    kills = await kill_three_times(worker, random.Random(kill_seed()), total)
    assert await producing == BATCHES and kills == 3

    stats = await stats_once_counted(worker, total)
    assert stats["total_logs"] == total
    assert by_service_and_level(stats) == dict(expected)
    errors = sum(n for (_s, level), n in expected.items() if level == "ERROR")
    assert stats["total_errors"] == errors and stats["errors_last_hour"] == errors
    for service in SERVICES:
        ids = [error["id"] for error in worker.get_json(f"/api/v1/logs/errors/{service}", limit=1000)["errors"]]
        assert len(ids) == len(set(ids)) == min(1000, expected[(service, "ERROR")]), f"{service}: an error twice"
