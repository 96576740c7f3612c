"""The Grafana protocol's hostile-input bounds: RE2 filters, time and number bounds, answer size caps."""

from __future__ import annotations

import time
from typing import Any

import pytest

from logmonitor.read.grafana import (
    MAX_FILTERS,
    MAX_TARGETS,
    GrafanaRequestError,
    parse_query,
    results,
)
from logmonitor.settings import ConfigError, Settings
from logmonitor.user_pattern import MAX_PATTERN_LENGTH

NOW = 1_795_674_660.0  # a whole minute
HOUR = 3600
DAY = {"from": NOW - 24 * HOUR + 60, "to": NOW}  # 1,440 one-minute buckets


def body(*targets: str, filters: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A /query body over the last hour, one-minute buckets."""
    return {"range": {"from": NOW - HOUR, "to": NOW}, "intervalMs": 60_000, "maxDataPoints": 1000,
            "targets": [{"target": name, "refId": chr(65 + i)} for i, name in enumerate(targets)],
            "adhocFilters": filters or [], **extra}


def counts(*services: str, level: str = "ERROR") -> dict[str, dict[str, dict[int, int]]]:
    """One record of ``level`` per service in the last minute."""
    return {service: {level: {int(NOW - 60): 1}} for service in services}


def answer(request: dict[str, Any], data: dict[str, Any], max_values: int = 100_000) -> list[dict[str, Any]]:
    return results(parse_query(request, NOW), data, [], max_values)


def regex(operator: str, pattern: str) -> list[dict[str, Any]]:
    return [{"key": "service", "operator": operator, "value": pattern}]


def test_a_catastrophic_regex_filter_answers_at_once_with_re2() -> None:
    # Python's re takes minutes for this pattern against a 20-character name, hours against 30.
    victims = counts("a" * 30, "checkout-service-eu-1", "b" * 255)
    started = time.monotonic()
    series = answer(body("error_by_service", filters=regex("=~", "(.*.*)*Y")), victims)
    assert time.monotonic() - started < 1.0  # a liveness bound, not a benchmark
    assert series == []


def test_regex_filters_match_the_whole_service_name() -> None:
    data = counts("payment", "prepayment", "booking")
    selected = answer(body("error_by_service", filters=regex("=~", "pay.*")), data)
    assert [s["target"] for s in selected] == ["payment"]
    rejected = answer(body("error_by_service", filters=regex("!~", "pay.*|book.*")), data)
    assert [s["target"] for s in rejected] == ["prepayment"]


@pytest.mark.parametrize(("pattern", "reason"), [
    ("(a)\\1", "not one RE2 accepts"),  # a backreference needs backtracking
    ("(?=a)a", "not one RE2 accepts"),  # so does lookahead
    ("(", "not one RE2 accepts"),
    ("a{1001}", "not one RE2 accepts"),
    ("x" * (MAX_PATTERN_LENGTH + 1), f"longer than {MAX_PATTERN_LENGTH}"),
])
def test_a_regex_re2_refuses_or_too_long_is_a_request_error(pattern: str, reason: str) -> None:
    with pytest.raises(GrafanaRequestError, match=f"filter service =~: .*{reason}"):
        parse_query(body("error_count", filters=regex("=~", pattern)), NOW)


@pytest.mark.parametrize(("extra", "detail"), [
    ({"range": {"from": 0, "to": 1e300}}, "range.to must be between 1970-01-01 and 9999-12-31"),
    ({"range": {"from": "0001-01-01T00:00:00+14:00", "to": NOW}}, "range.from must be between"),
    ({"range": {"from": float("nan"), "to": NOW}}, "range.from must be between"),
    ({"range": {"from": [], "to": NOW}}, "range.from must be ISO 8601"),
    ({"maxDataPoints": 0.5}, "maxDataPoints must be between 1 and"),  # was an OverflowError after a long loop
    ({"maxDataPoints": 1e300}, "maxDataPoints must be between 1 and"),
    ({"intervalMs": 1e300}, "intervalMs must be between 1 and"),
    ({"intervalMs": "1" * 500}, "intervalMs must be a number"),
    ({"maxDataPoints": 10**5000}, "maxDataPoints must be a number"),
    ({"intervalMs": float("inf")}, "intervalMs must be between 1 and"),
])
def test_out_of_bounds_times_and_numbers_are_request_errors(extra: dict[str, Any], detail: str) -> None:
    with pytest.raises(GrafanaRequestError, match=detail):
        parse_query(body("error_count", **extra), NOW)


def test_the_whole_time_span_is_answered_in_few_buckets() -> None:
    query = parse_query(body("error_count", range={"from": 0, "to": "9999-12-31T23:59:59Z"},
                             intervalMs=1, maxDataPoints=100), NOW)
    assert 0 < len(query.bucket_starts) <= 100


def test_too_many_targets_or_filters_are_request_errors() -> None:
    with pytest.raises(GrafanaRequestError, match=f"targets has {MAX_TARGETS + 1} items, more than {MAX_TARGETS}"):
        parse_query(body(*["error_count"] * (MAX_TARGETS + 1)), NOW)
    many = [{"key": "service", "operator": "=", "value": str(i)} for i in range(MAX_FILTERS + 1)]
    with pytest.raises(GrafanaRequestError, match=f"adhocFilters has {MAX_FILTERS + 1} items"):
        parse_query(body("error_count", filters=many), NOW)


def test_series_times_points_above_the_cap_is_refused_before_the_answer_is_built() -> None:
    services = counts(*(f"service-{i:02}" for i in range(20)))
    request = body("error_by_service", range=DAY, maxDataPoints=1440)
    with pytest.raises(GrafanaRequestError, match=r"would hold 28,800 values .* more than 10,000"):
        answer(request, services, max_values=10_000)
    assert len(answer({**request, "maxDataPoints": 480}, services, max_values=10_000)) == 20  # 3-minute buckets: 9,600
    assert len(answer(request, services, max_values=28_800)) == 20


def test_every_target_counts_towards_the_cap() -> None:
    request = body("error_count", "log_volume", "error_rate", range=DAY, maxDataPoints=1440)
    assert len(answer(request, counts("booking"), max_values=3 * 1440)) == 3
    with pytest.raises(GrafanaRequestError, match="would hold 4,320 values"):
        answer(request, counts("booking"), max_values=3 * 1440 - 1)
    tables = body(*["error_by_service"] * 3, type="table")
    tables["targets"] = [{**target, "type": "table"} for target in tables["targets"]]
    with pytest.raises(GrafanaRequestError, match="would hold 30 values"):
        answer(tables, counts(*(f"s{i}" for i in range(10))), max_values=29)


def test_the_cap_is_configured_by_logmonitor_grafana_max_points() -> None:
    assert Settings.from_env({}).grafana_max_points == 100_000
    assert Settings.from_env({"LOGMONITOR_GRAFANA_MAX_POINTS": "5000"}).grafana_max_points == 5000
    with pytest.raises(ConfigError, match="LOGMONITOR_GRAFANA_MAX_POINTS"):
        Settings.from_env({"LOGMONITOR_GRAFANA_MAX_POINTS": "0"})
