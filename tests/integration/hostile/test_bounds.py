"""State a producer can grow is bounded and expires, visibly (issue 17 item 6, DESIGN section 6).

Against real workers: a cap on distinct services with the rest counted under ``_overflow``,
exact totals on both workers of an app and after a restart, one announcement, a small
``/metrics``; a recent-errors ring bounded in bytes; services expiring with their state.
"""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from logmonitor.pipeline.tables.service_registry import OVERFLOW
from tests.fixtures.receivers import wait_until
from tests.fixtures.traffic import keyed, log_record, produce

CAP, SERVICES, PER_SERVICE = 20, 200, 5
ANNOUNCEMENT = "service cap reached: records of services beyond LOGMONITOR_MAX_SERVICES=20"


def flood(round_: int) -> list[dict[str, Any]]:
    """``PER_SERVICE`` records (one an ERROR) of each of ``SERVICES`` made-up services."""
    return [log_record(f"tenant-{n:03d}", "ERROR" if i == 0 else "INFO", f"round {round_} record {i}")
            for n in range(SERVICES) for i in range(PER_SERVICE)]


def counted(worker: Any, total: int) -> dict[str, Any]:
    return wait_until(lambda: (s := worker.get_json("/api/v1/logs/stats"))["total_logs"] == total and s,
                      120, f"{total} records counted")


def series(worker: Any, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of metric ``name`` on ``worker``, by its labels."""
    families = text_string_to_metric_families(worker.get_text("/metrics"))
    return {tuple(sorted(sample.labels.items())): sample.value
            for family in families for sample in family.samples if sample.name == name}


async def test_services_beyond_the_cap_are_counted_under_overflow_on_every_worker(start_worker: Any) -> None:
    first = start_worker(LOGMONITOR_MAX_SERVICES=str(CAP))
    first.wait_healthy()
    shared = {k: v for k, v in first.env.items() if k.startswith("LOGMONITOR_TOPIC") or k == "LOGMONITOR_APP_ID"}
    second = start_worker(LOGMONITOR_MAX_SERVICES=str(CAP), **shared)
    second.wait_healthy()
    bootstrap, logs = first.env["KAFKA_BOOTSTRAP_SERVERS"], first.env["LOGMONITOR_TOPIC_LOGS"]
    await produce(bootstrap, logs, keyed(flood(1)))

    stats = counted(first, SERVICES * PER_SERVICE)
    admitted = set(stats["by_service"]) - {OVERFLOW}
    assert OVERFLOW in stats["by_service"] and len(admitted) <= CAP, sorted(stats["by_service"])
    assert all(stats["by_service"][name] == {"ERROR": 1, "INFO": 4} for name in admitted)
    overflowed = stats["by_service"][OVERFLOW]
    assert overflowed == {"ERROR": SERVICES - len(admitted), "INFO": 4 * (SERVICES - len(admitted))}
    assert stats["total_errors"] == SERVICES, "every error counted once, admitted or not"
    assert counted(second, SERVICES * PER_SERVICE)["by_service"] == stats["by_service"], "either worker answers alike"
    for path, params in [("/api/v1/logs/services", {}), ("/api/v1/logs/groups", {"limit": 1000}),
                         ("/api/v1/logs/errors", {"limit": 1000, "service": OVERFLOW})]:
        assert first.get_json(path, **params) == second.get_json(path, **params), path
    services = first.get_json("/api/v1/logs/services")["services"]
    assert {s["name"] for s in services} == admitted | {OVERFLOW}
    errors = first.get_json("/api/v1/logs/errors", service=OVERFLOW, limit=1000)["errors"]
    assert len(errors) == SERVICES - len(admitted)
    assert {e["extra"]["overflowed_service"] for e in errors} == {f"tenant-{n:03d}" for n in range(SERVICES)} - admitted

    logs_text = first.log_text() + second.log_text()
    assert logs_text.count(ANNOUNCEMENT) in (1, 2), "once per worker that overflows"
    for worker in (first, second):
        assert worker.log_text().count(ANNOUNCEMENT) <= 1
        body = worker.get_text("/metrics")
        routed = series(worker, "logmonitor_records_routed_total")
        assert len(routed) <= 2 * (CAP + 1) and len(body) < 64 * 1024, (len(routed), len(body))
    overflow_metric = sum(series(w, "logmonitor_overflowed_records_total")[()] for w in (first, second))
    assert overflow_metric == sum(overflowed.values())

    second.stop()  # the first takes over every partition, recovering the registries from the changelog
    first.restart()
    first.wait_healthy()
    await produce(bootstrap, logs, keyed(flood(2)))
    again = counted(first, 2 * SERVICES * PER_SERVICE)
    assert set(again["by_service"]) - {OVERFLOW} == admitted, "the same services stay admitted"
    assert again["by_service"][OVERFLOW] == {level: 2 * n for level, n in overflowed.items()}


async def test_a_ring_is_bounded_in_bytes_and_keeps_the_newest(start_worker: Any) -> None:
    ring_bytes = 1024 * 1024
    worker = start_worker(LOGMONITOR_RING_BYTES=str(ring_bytes))
    worker.wait_healthy()
    bootstrap, logs = worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"]
    big = "x" * 100_000
    for round_ in range(4):  # separate batches: the oldest chunks are dropped, not only a batch trimmed
        await produce(bootstrap, logs, keyed([log_record("bulky", "ERROR", f"{round_}-{i} {big}")
                                              for i in range(10)]))
        counted(worker, 10 * (round_ + 1))
    errors = worker.get_json("/api/v1/logs/errors/bulky", limit=1000)["errors"]
    kept = [error["message"].split(" ", 1)[0] for error in errors]
    assert 5 <= len(kept) <= ring_bytes // 100_000, kept
    assert kept == [f"{n // 10}-{n % 10}" for n in range(39, 39 - len(kept), -1)], "the newest, newest first"
    assert worker.get_json("/api/v1/logs/stats")["by_service"]["bulky"] == {"ERROR": 40}, "counts are all-time"


async def test_services_unseen_for_the_retention_expire_with_their_state(start_worker: Any) -> None:
    worker = start_worker(LOGMONITOR_SERVICE_RETENTION="5s", LOGMONITOR_ALERT_INTERVAL="500ms")
    worker.wait_healthy()
    bootstrap, logs = worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"]
    await produce(bootstrap, logs, keyed([log_record("ephemeral", level, "gone soon") for level in ("INFO", "ERROR")]))
    assert counted(worker, 2)["by_service"] == {"ephemeral": {"INFO": 1, "ERROR": 1}}
    assert worker.get_json("/api/v1/logs/groups")["count"] == 1

    wait_until(lambda: not worker.get_json("/api/v1/logs/services")["services"], 30, "the service to expire")
    assert worker.get_json("/api/v1/logs/groups")["count"] == 0
    assert worker.get_json("/api/v1/logs/errors")["count"] == 0
    assert series(worker, "logmonitor_services_expired_total")[()] == 1
    assert not [labels for labels in series(worker, "logmonitor_records_routed_total")
                if ("service", "ephemeral") in labels], "its metric series went with it"

    await produce(bootstrap, logs, keyed([log_record("ephemeral", "INFO", "back again")]))
    stats = wait_until(lambda: (s := worker.get_json("/api/v1/logs/stats"))["by_service"] and s, 30, "its return")
    assert stats["by_service"] == {"ephemeral": {"INFO": 1}}, "it starts afresh"
