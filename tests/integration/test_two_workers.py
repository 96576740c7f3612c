"""Two workers of one app split the partitions, and either answers every query completely."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from logmonitor.timestamps import iso_timestamp
from tests.fixtures.traffic import keyed, log_record, produce

SERVICES = [f"svc-{i}" for i in range(12)]


def settled(worker: Any, total: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    stats = worker.get_json("/api/v1/logs/stats")
    while stats["total_logs"] != total and time.monotonic() < deadline:
        time.sleep(0.5)
        stats = worker.get_json("/api/v1/logs/stats")
    return stats


async def test_either_worker_answers_for_all_partitions(start_worker: Any, unique_name: Any) -> None:
    first = start_worker(LOGMONITOR_PARTITIONS="4")
    first.wait_healthy()
    shared = {k: v for k, v in first.env.items() if k.startswith("LOGMONITOR_TOPIC") or k == "LOGMONITOR_APP_ID"}
    second = start_worker(LOGMONITOR_PARTITIONS="4", **shared)
    second.wait_healthy()
    records = [log_record(SERVICES[i % len(SERVICES)], ("INFO", "ERROR", "WARNING")[i % 3], f"m{i}")
               for i in range(600)]
    await produce(first.env["KAFKA_BOOTSTRAP_SERVERS"], first.env["LOGMONITOR_TOPIC_LOGS"], keyed(records))
    expected = Counter((r["service"], r["level"]) for r in records)

    answers = [settled(worker, len(records)) for worker in (first, second)]
    for stats in answers:
        assert {(s, lvl): n for s, levels in stats["by_service"].items() for lvl, n in levels.items()} == expected
        assert stats["errors_last_hour"] == 200
    for path, params in [("/api/v1/logs/errors", {"limit": 1000}), ("/api/v1/logs/groups", {"limit": 1000}),
                         ("/api/v1/logs/services", {}), ("/api/v1/logs/errors/svc-1", {"limit": 100})]:
        assert first.get_json(path, **params) == second.get_json(path, **params), path
    assert first.get_json("/api/v1/logs/errors", limit=1000)["count"] == 200

    failing = sorted({record["service"] for record in records if record["level"] == "ERROR"})
    deadline = time.monotonic() + 60
    while first.get_json("/api/v1/alerts", rule="new-error")["count"] < len(failing):
        assert time.monotonic() < deadline, first.get_json("/api/v1/alerts")
        await asyncio.sleep(0.5)
    alerts = [worker.get_json("/api/v1/alerts", rule="new-error") for worker in (first, second)]
    assert alerts[0] == alerts[1], "either worker lists every partition's alerts"
    assert sorted(alert["service"] for alert in alerts[0]["alerts"]) == failing, "one new group per failing service"

    # Grafana's annotations hold the alerts too: compared once every failing service's alert fired
    grafana = {"range": {"from": iso_timestamp(time.time() - 3600), "to": iso_timestamp(time.time() + 60)},
               "intervalMs": 60_000, "maxDataPoints": 100,
               "targets": [{"refId": "A", "target": "error_by_service"}, {"refId": "B", "target": "annotations"}]}
    answers = [worker.post("/api/v1/grafana/query", grafana) for worker in (first, second)]
    assert answers[0][0] == answers[1][0] == 200
    for one, other in zip(answers[0][1], answers[1][1], strict=True):
        assert one == other, (one.get("target") or one.get("refId"), one, other)
    assert sum(value for series in answers[0][1][:-1] for value, _ms in series["datapoints"]) == 200
