"""Releases, environments and traces against the real broker and real workers (issue 28 items 2, 3, 5 and 7).

Two releases of one service: the second introduces a group and brings a resolved one back, and
the releases view, the group filters, the detail and the regression alert say so. Two services
failing in one trace: the trace query answers both from either of two workers, as it does each
service's releases. Bad parameters: 400s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from logmonitor.home_partition import HomePartitions
from tests.fixtures.receivers import WebhookReceiver, wait_until
from tests.fixtures.traffic import keyed, log_record, produce
from tests.integration.test_triage import alerts, rules_file, send, set_status

pytestmark = pytest.mark.integration


def failure(service: str, kind: str, n: int, release: str, environment: str = "production",
            **fields: Any) -> dict[str, Any]:
    """An error of bug ``kind`` of ``service`` (the number is masked out of its group) in ``release``."""
    exception = {"type": f"{kind}Error", "message": f"call {n} failed", "stacktrace": f'File "{kind}.py", line 3'}
    return log_record(service, "ERROR", f"{kind} call {n} failed", exception=exception, release=release,
                      environment=environment, **fields)


def groups(worker: Any, **params: Any) -> list[dict[str, Any]]:
    return worker.get_json("/api/v1/logs/groups", limit=1000, **params)["groups"]  # type: ignore[no-any-return]


def by_type(listed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {group["exception_type"]: group for group in listed}


async def test_a_second_release_brings_a_new_group_and_a_resolved_one_back_and_every_view_says_so(
    start_worker: Any, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    rules = rules_file(tmp_path, webhook_receiver.url, "  - {name: back, kind: regression, cooldown: 1s}\n")
    worker = start_worker(LOGMONITOR_ALERT_RULES=rules, LOGMONITOR_ALERT_INTERVAL="500ms")
    worker.wait_healthy()
    bootstrap, logs = worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"]
    await produce(bootstrap, logs, keyed([failure("cart", "Timeout", n, "1.0") for n in range(3)]
                                         + [log_record("cart", "INFO", "started", release="1.0")]))
    old = wait_until(lambda: next((g for g in groups(worker, service="cart") if g["count"] == 3), None), 60,
                     "release 1.0's group")
    assert (old["first_release"], old["last_release"], old["releases"]) == (
        "1.0", "1.0", [{"release": "1.0", "count": 3}])
    set_status(worker, old["id"], "resolved")

    await produce(bootstrap, logs, keyed([failure("cart", "Timeout", 9, "2.0"),
                                          failure("cart", "Parse", 1, "2.0", environment="staging"),
                                          log_record("cart", "INFO", "started", release="2.0")]))
    wait_until(lambda: len(groups(worker, service="cart", release="2.0")) == 2, 60, "both groups in release 2.0")
    listed = by_type(groups(worker, service="cart", release="2.0"))
    assert listed["TimeoutError"]["status"] == "regressed" and listed["TimeoutError"]["regressed_in"] == "2.0"
    assert listed["ParseError"]["first_release"] == "2.0" and listed["ParseError"]["status"] == "new"
    assert listed["TimeoutError"]["releases"] == [{"release": "2.0", "count": 1}, {"release": "1.0", "count": 3}]
    assert list(by_type(groups(worker, release="1.0"))) == ["TimeoutError"]
    assert list(by_type(groups(worker, environment="staging"))) == ["ParseError"]
    assert groups(worker, release="3.0") == []
    assert worker.get_json("/api/v1/logs/groups", release="2.0")["by_status"]["regressed"] == 1

    shown = worker.get_json(f"/api/v1/logs/groups/{old['id']}")
    back = shown["history"][-1]
    assert (back["why"], back["release"]) == ("regression", "2.0") and shown["environments"] == ["production"]

    answer = worker.get_json("/api/v1/logs/releases", service="cart")
    assert [(r["release"], r["records"], r["errors"], r["new"], r["regressed"]) for r in answer["releases"]] == [
        ("2.0", 3, 2, 1, 1), ("1.0", 4, 3, 1, 0)], answer
    first = worker.get_json("/api/v1/logs/releases", service="cart", limit=1)
    second = worker.get_json("/api/v1/logs/releases", service="cart", limit=1, after=first["next"])
    assert [r["release"] for r in first["releases"] + second["releases"]] == ["2.0", "1.0"]
    assert second["next"] is None

    wait_until(lambda: alerts(webhook_receiver, "back"), 60, "the regression alert")
    (alert,) = alerts(webhook_receiver, "back")
    assert alert["title"] == "1 error group back in cart in release 2.0", alert
    assert alert["example"]["regressed_in"] == "2.0"


def test_bad_parameters_of_the_new_views_are_400s_with_a_json_error(module_worker: Any) -> None:
    long = "x" * 2000
    for path in ["/api/v1/logs/releases", f"/api/v1/logs/releases?service={long}",
                 "/api/v1/logs/releases?service=cart&limit=0", "/api/v1/logs/releases?service=cart&limit=x",
                 "/api/v1/logs/releases?service=cart&after=nocursor", f"/api/v1/logs/groups?release={long}",
                 f"/api/v1/logs/groups?environment={long}", f"/api/v1/logs/errors?trace_id={long}",
                 f"/api/v1/logs/errors?request_id={long}"]:
        status, answer = send(module_worker, "GET", path)
        assert status == 400 and answer["error"] == "bad_parameter" and answer["detail"], (path, answer)


def services_on_every_partition(partitions: int) -> list[str]:
    """One service name per home partition, so two workers of ``partitions`` each own some."""
    homes = HomePartitions(partitions)
    found: dict[int, str] = {}
    for n in range(1000):
        found.setdefault(homes[f"api-{n}"], f"api-{n}")
        if len(found) == partitions:
            return [found[p] for p in sorted(found)]
    raise AssertionError("no service name for some partition")


async def test_the_errors_of_one_trace_come_from_every_service_and_either_of_two_workers(start_worker: Any) -> None:
    first = start_worker()
    first.wait_healthy()
    shared = {k: v for k, v in first.env.items() if k.startswith("LOGMONITOR_TOPIC") or k == "LOGMONITOR_APP_ID"}
    second = start_worker(**shared)
    second.wait_healthy()
    services = services_on_every_partition(int(first.env["LOGMONITOR_PARTITIONS"]))
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    records = [failure(service, "Upstream", n, "1.0", trace_id=trace, request_id=f"req-{service}")
               for n, service in enumerate(services)]
    records += [failure(service, "Upstream", 9, "1.0", trace_id="another") for service in services]
    await produce(first.env["KAFKA_BOOTSTRAP_SERVERS"], first.env["LOGMONITOR_TOPIC_LOGS"], keyed(records))

    def the_trace(worker: Any) -> list[dict[str, Any]]:
        return worker.get_json("/api/v1/logs/errors", trace_id=trace)["errors"]  # type: ignore[no-any-return]

    wait_until(lambda: len(the_trace(first)) == len(services), 60, "the trace's errors")
    answers = [the_trace(worker) for worker in (first, second)]
    assert answers[0] == answers[1], "either worker answers the whole trace"
    assert sorted(error["service"] for error in answers[0]) == sorted(services)
    assert {error["trace_id"] for error in answers[0]} == {trace}
    times = [error["timestamp"] for error in answers[0]]
    assert times == sorted(times, reverse=True), "by time, newest first"
    locals_ = [worker.get_json("/api/v1/internal/partial/errors", trace_id=trace) for worker in (first, second)]
    assert all(0 < len(partial) < len(services) for partial in locals_), "each worker holds only part of it"
    one = first.get_json("/api/v1/logs/errors", request_id=f"req-{services[-1]}")["errors"]
    assert [error["service"] for error in one] == [services[-1]]
    for service in services:  # a service's releases come from the worker owning its home partition, asked or not
        views = [worker.get_json("/api/v1/logs/releases", service=service) for worker in (first, second)]
        assert views[0] == views[1], service
        assert [(r["release"], r["errors"], r["new"]) for r in views[0]["releases"]] == [("1.0", 2, 1)], views[0]
