"""Hostile Grafana and REST requests against a real worker (R7): user regexes, huge ranges and answers, extreme times.

The worker must answer each with 400 or a correct answer, at once, and its event loop must stay
live meanwhile: health answers within a second while the nastiest requests run concurrently.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.traffic import keyed, log_record, produce

SERVICES = [f"hostile-service-{i:03}-eu-west-1" for i in range(150)]  # 29 characters: Python's re needs hours
CATASTROPHIC = {"key": "service", "operator": "=~", "value": "(.*.*)*Y"}
DAY_MS = 24 * 3600 * 1000


@pytest.fixture(scope="module")
def worker(module_worker: Any) -> Any:
    """The module's worker with one ERROR of each of 150 services."""
    env = module_worker.env
    records = [log_record(service, "ERROR", "disk full") for service in SERVICES]
    asyncio.run(produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], keyed(records)))
    module_worker.wait_counted(len(SERVICES), "total_errors")
    return module_worker


def request(worker: Any, path: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
    """GET (``body`` None) or POST ``body`` as JSON; the status and the decoded answer."""
    data = None if body is None else orjson.dumps(body)
    call = urllib.request.Request(worker.url + path, data=data, method="GET" if body is None else "POST",
                                  headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            return int(response.status), orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def query(*targets: str, **extra: Any) -> dict[str, Any]:
    """A /query body over the last hour."""
    now = int(time.time() * 1000)
    return {"range": {"from": now - 3600_000, "to": now}, "intervalMs": 60_000, "maxDataPoints": 1000,
            "targets": [{"target": target, "refId": chr(65 + i)} for i, target in enumerate(targets)], **extra}


def test_a_catastrophic_regex_filter_is_answered_at_once(worker: Any) -> None:
    status, answer = request(worker, "/api/v1/grafana/query", query("error_by_service", adhocFilters=[CATASTROPHIC]),
                             timeout=10)
    assert status == 200 and answer == []  # no service name ends in Y
    status, answer = request(worker, "/api/v1/grafana/query", query(
        "error_by_service", adhocFilters=[{"key": "service", "operator": "=~", "value": "(.*.*)*-00[12]-eu-west-1"}]))
    assert status == 200 and [series["target"] for series in answer] == SERVICES[1:3]
    assert request(worker, "/api/v1/health", timeout=1)[0] == 200


@pytest.mark.parametrize(("operator", "pattern"), [("=~", "(a)\\1"), ("!~", "(?<=x)y"), ("=~", "x" * 257)])
def test_a_regex_re2_refuses_is_400(worker: Any, operator: str, pattern: str) -> None:
    filters = [{"key": "service", "operator": operator, "value": pattern}]
    status, error = request(worker, "/api/v1/grafana/query", query("error_count", adhocFilters=filters))
    assert status == 400 and error["error"] == "bad_parameter" and f"filter service {operator}" in error["detail"]


BAD_REST = [
    {"since": "0001-01-01T00:00:00+14:00"}, {"until": "9999-12-31T23:59:59-14:00"}, {"since": "-1"},
    {"until": "1e300"}, {"since": "inf"}, {"until": "1969-12-31T23:59:59Z"}, {"since": "2026-01-01T00:00:00Z" * 4},
    {"q": "x" * 257},
]


@pytest.mark.parametrize("params", BAD_REST)
@pytest.mark.parametrize("path", ["/api/v1/logs/errors", "/api/v1/logs/errors/" + SERVICES[0]])
def test_each_bad_rest_time_parameter_is_400_with_the_json_error(worker: Any, path: str,
                                                                  params: dict[str, str]) -> None:
    status, error = request(worker, f"{path}?{urllib.parse.urlencode(params)}")
    assert status == 400 and error["error"] == "bad_parameter" and error["detail"], error


BAD_GRAFANA = [
    ("query", {"range": {"from": 0, "to": 1e300}}),
    ("query", {"range": {"from": "0001-01-01T00:00:00+14:00", "to": "2026-01-01T00:00:00Z"}}),
    ("query", {"range": {"from": -1, "to": 0}}),
    ("query", {"intervalMs": 1e300}), ("query", {"intervalMs": 0}), ("query", {"maxDataPoints": 0.5}),
    ("query", {"maxDataPoints": 1e300}), ("query", {"maxDataPoints": "many"}),
    ("annotations", {"range": {"from": 0, "to": 1e300}}),
    ("annotations", {"range": {"from": "0001-01-01T00:00:00+14:00", "to": "2026-01-01T00:00:00Z"}}),
]


@pytest.mark.parametrize(("route", "fields"), BAD_GRAFANA)
def test_each_bad_grafana_time_or_size_is_400_with_the_json_error(worker: Any, route: str,
                                                                  fields: dict[str, Any]) -> None:
    status, error = request(worker, f"/api/v1/grafana/{route}", {**query("error_count"), **fields})
    assert status == 400 and error["error"] == "bad_parameter" and error["detail"], error


def test_many_series_times_many_points_is_400_not_hundreds_of_mib(worker: Any) -> None:
    week = query("error_by_service", maxDataPoints=1e9, intervalMs=1)
    week["range"] = {"from": week["range"]["to"] - 7 * DAY_MS, "to": week["range"]["to"]}
    status, error = request(worker, "/api/v1/grafana/query", week)
    assert status == 400 and error["error"] == "bad_parameter"
    assert "more than 100,000" in error["detail"] and "maxDataPoints" in error["detail"]
    status, series = request(worker, "/api/v1/grafana/query", {**week, "maxDataPoints": 500})
    assert status == 200 and len(series) == len(SERVICES)
    assert all(len(one["datapoints"]) <= 500 for one in series)


def nasty_requests() -> list[tuple[str, Any]]:
    """The worst requests of this module, each a (path, body or None for GET)."""
    now = int(time.time() * 1000)
    whole = {"from": 0, "to": "9999-12-31T23:59:59Z"}
    return [
        ("/api/v1/grafana/query", query("error_by_service", "error_count", adhocFilters=[CATASTROPHIC] * 10)),
        ("/api/v1/grafana/query", query("error_by_service", "log_volume", range=whole, intervalMs=1,
                                        maxDataPoints=1e9)),
        ("/api/v1/grafana/query", query(*["error_by_service"] * 50, maxDataPoints=1e9, intervalMs=1,
                                        range={"from": now - 7 * DAY_MS, "to": now})),
        ("/api/v1/grafana/query", query("error_by_service", "error_rate", maxDataPoints=600,
                                        range={"from": now - DAY_MS, "to": now})),
        ("/api/v1/grafana/query", {"range": {"from": 0, "to": 1e300}, "targets": [{"target": "error_count"}]}),
        ("/api/v1/grafana/annotations", {"range": whole, "annotation": {"query": ""}}),
        ("/api/v1/logs/errors?" + urllib.parse.urlencode({"since": "0001-01-01T00:00:00+14:00"}), None),
        ("/api/v1/logs/errors?" + urllib.parse.urlencode({"q": "(.*.*)*Y" * 32, "limit": "1000"}), None),
    ]


def poll_health(worker: Any, stop: threading.Event, latencies: list[float]) -> None:
    """GET health every 0.1 s until ``stop``; a failed or late answer counts as 5 s."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            ok = request(worker, "/api/v1/health", timeout=5)[0] == 200
        except OSError:
            ok = False
        latencies.append(time.monotonic() - started if ok else 5.0)
        stop.wait(0.1)


def in_threads(count: int, work: Callable[[], None]) -> list[threading.Thread]:
    threads = [threading.Thread(target=work, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


ROUNDS = 5


@pytest.mark.latency  # health's latency is what it measures: it runs alone
def test_the_loop_stays_live_while_the_nastiest_requests_run_concurrently(worker: Any) -> None:
    statuses: list[int] = []

    def attack() -> None:
        for _round in range(ROUNDS):
            for path, body in nasty_requests():
                try:
                    statuses.append(request(worker, path, body, timeout=30)[0])
                except OSError:
                    statuses.append(0)

    stop, latencies = threading.Event(), []
    health = threading.Thread(target=poll_health, args=(worker, stop, latencies), daemon=True)
    health.start()
    attackers, deadline = in_threads(3, attack), time.monotonic() + 180
    for thread in attackers:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stop.set()
    health.join(timeout=10)
    assert len(statuses) == 3 * ROUNDS * len(nasty_requests()) and set(statuses) <= {200, 400}, sorted(set(statuses))
    assert len(latencies) >= 3 and max(latencies) < 1.0, f"slowest health answer {max(latencies):.2f} s"
    assert loop_lag_count(worker) > 0


def loop_lag_count(worker: Any) -> float:
    """How many lag samples the worker's /metrics reports."""
    for family in text_string_to_metric_families(worker.get_text("/metrics")):
        if family.name == "logmonitor_event_loop_lag_seconds":
            return sum(sample.value for sample in family.samples if sample.name.endswith("_count"))
    raise AssertionError("/metrics has no logmonitor_event_loop_lag_seconds")
