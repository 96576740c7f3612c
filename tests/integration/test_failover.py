"""Failover: kill one of two workers; the survivor takes over, stays exact and complete; a restart spreads again."""

from __future__ import annotations

import signal
import time
from collections import Counter
from typing import Any

import pytest

from tests.fixtures.traffic import keyed, log_record, produce

pytestmark = pytest.mark.kills  # after the others, two at a time: a worker is killed mid-stream

SERVICES = [f"svc-{i}" for i in range(12)]
LEVELS = ("INFO", "ERROR", "WARNING", "INFO")


def batch(start: int, count: int) -> list[dict[str, Any]]:
    return [log_record(SERVICES[i % len(SERVICES)], LEVELS[i % len(LEVELS)], f"m{i}") for i in range(start,
                                                                                                      start + count)]


def counted(stats: dict[str, Any]) -> Counter[tuple[str, str]]:
    return Counter({(s, lvl): n for s, levels in stats["by_service"].items() for lvl, n in levels.items()})


def settled(worker: Any, expected: Counter[tuple[str, str]], timeout: float = 120) -> dict[str, Any]:
    """The worker's /stats once it counts ``expected`` (peers may be briefly unavailable meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            stats = worker.get_json("/api/v1/logs/stats")
            seen = counted(stats)
            if seen == expected:
                return stats
            last = f"missing {expected - seen}, extra {seen - expected}"
        except OSError as error:  # 503 while a peer is gone or the group rebalances
            last = f"{error}: {getattr(error, 'read', lambda: b'')()!r}"
        assert time.monotonic() < deadline, f"not settled; last answer: {last}\n{worker.log_tail(30)}"
        time.sleep(0.5)


def owned_services(worker: Any) -> set[str]:
    """The services whose partitions this worker processes (its own partial, no fan-out)."""
    return set(worker.get_json("/api/v1/internal/partial/summary")["profiles"])


async def test_the_survivor_takes_over_and_a_restart_spreads_the_load(start_worker: Any) -> None:
    first = start_worker()
    first.wait_healthy()
    shared = {k: v for k, v in first.env.items() if k.startswith("LOGMONITOR_TOPIC") or k == "LOGMONITOR_APP_ID"}
    second = start_worker(**shared)
    second.wait_healthy()
    bootstrap, topic = first.env["KAFKA_BOOTSTRAP_SERVERS"], first.env["LOGMONITOR_TOPIC_LOGS"]

    before = batch(0, 6000)
    await produce(bootstrap, topic, keyed(before))
    expected = Counter((r["service"], r["level"]) for r in before)
    settled(first, expected)
    split = owned_services(first), owned_services(second)
    assert split[0] and split[1] and not split[0] & split[1], "two workers split the services"

    second.kill(signal.SIGKILL)
    during = batch(6000, 6000)
    await produce(bootstrap, topic, keyed(during))
    expected += Counter((r["service"], r["level"]) for r in during)
    stats = settled(first, expected)
    first.wait_healthy()
    assert owned_services(first) == set(SERVICES), "the survivor took over every partition"
    assert stats["total_logs"] == 12_000 and stats["total_errors"] == 3000
    errors = {service: n for (service, level), n in expected.items() if level == "ERROR"}
    assert first.get_json("/api/v1/logs/errors/svc-1", limit=1000)["count"] == min(1000, errors["svc-1"])
    newest = first.get_json("/api/v1/logs/errors", limit=1000)["errors"]
    assert {e["service"] for e in newest} == set(errors), "the survivor answers for every service"

    second.restart()
    second.wait_healthy()
    first.wait_healthy()
    after = settled(second, expected)
    assert after["by_service"] == settled(first, expected)["by_service"]
    spread = owned_services(first), owned_services(second)
    assert spread[0] and spread[1] and spread[0] | spread[1] == set(SERVICES), "the load spreads again"
