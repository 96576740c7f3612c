"""grafana.py's answers, pure functions on counts (test_grafana_protocol.py covers the request bounds and caps)."""

from __future__ import annotations

from typing import Any

import pytest

from logmonitor.levels import LEVELS
from logmonitor.read.grafana import (
    DEFAULT_RANGE,
    TARGETS,
    GrafanaRequestError,
    annotation_events,
    annotation_frame,
    level_options,
    metric_names,
    parse_body,
    parse_query,
    results,
    time_range,
)

T0 = 1_800_000_000  # a bucket start for 60 s and 120 s buckets
COUNTS = {
    "pay": {"ERROR": {T0: 2, T0 + 60: 1}, "INFO": {T0: 10}},
    "shop": {"CRITICAL": {T0 + 60: 3}, "WARNING": {T0: 4}},
}


def query(*targets: dict[str, Any], **body: Any) -> Any:
    """A /query request over [T0, T0 + 119] in 60 s buckets."""
    return parse_query({"range": {"from": T0, "to": T0 + 119}, "intervalMs": 60_000, "maxDataPoints": 1000,
                        "targets": list(targets), **body})


def answer(*targets: dict[str, Any], events: list[dict[str, Any]] | None = None, **body: Any) -> list[dict[str, Any]]:
    return results(query(*targets, **body), COUNTS, events or [], 10_000)


def points(series: dict[str, Any]) -> list[int]:
    return [value for value, _ms in series["datapoints"]]


@pytest.mark.parametrize(("raw", "parsed"), [(b"", {}), (b"  ", {}), (b"null", {}), (b'{"a": 1}', {"a": 1})])
def test_bodies_grafana_sends_are_read(raw: bytes, parsed: dict[str, Any]) -> None:
    assert parse_body(raw) == parsed


@pytest.mark.parametrize(("raw", "detail"), [(b"{", "not JSON"), (b"[1]", "JSON object"), (b'"x"', "JSON object")])
def test_other_bodies_are_request_errors(raw: bytes, detail: str) -> None:
    with pytest.raises(GrafanaRequestError, match=detail):
        parse_body(raw)


def test_the_range_defaults_to_the_last_six_hours_and_must_not_run_backwards() -> None:
    assert time_range({}, now=T0) == (T0 - DEFAULT_RANGE, T0)
    assert time_range({"range": {"from": "2027-01-15T08:00:00Z"}}, now=T0 + 60) == (T0, T0 + 60)
    with pytest.raises(GrafanaRequestError, match=r"range\.from must not be after range\.to"):
        time_range({"range": {"from": T0 + 1, "to": T0}})


def test_each_series_target_counts_what_it_names_in_every_bucket() -> None:
    by_name = {(s["refId"], s["target"]): points(s) for s in answer(
        {"target": "error_count", "refId": "A"}, {"target": "log_volume", "refId": "B"},
        {"target": "error_by_service", "refId": "C"}, {"target": "error_by_level", "refId": "D"},
        {"target": "error_rate", "refId": "E"}, {"target": "nonsense"}, {"target": "log_volume", "hide": True})}
    assert by_name == {
        ("A", "error_count"): [2, 4], ("B", "log_volume"): [16, 4],
        ("C", "pay"): [2, 1], ("C", "shop"): [0, 3], ("D", "ERROR"): [2, 1], ("D", "CRITICAL"): [0, 3],
        ("E", "error_rate"): [2.0, 4.0],
    }


def test_wider_buckets_add_up_and_rates_stay_per_minute() -> None:
    body = {"intervalMs": 120_000}
    [count] = answer({"target": "error_count"}, **body)
    [rate] = answer({"target": "error_rate"}, **body)
    assert points(count) == [6] and points(rate) == [3.0]
    assert [ms for _value, ms in count["datapoints"]] == [T0 * 1000]


def test_filters_of_the_dashboard_and_of_the_target_both_apply() -> None:
    regex = {"adhocFilters": [{"key": "service", "operator": "=~", "value": "pa."}]}
    assert [points(s) for s in answer({"target": "log_volume"}, **regex)] == [[12, 1]]
    not_pay = {"filters": [{"key": "service", "operator": "!=", "value": "pay"}, {"key": "other", "value": "x"}]}
    assert [points(s) for s in answer({"target": "log_volume"}, **not_pay)] == [[4, 3]]
    level = {"adhocFilters": [{"key": "level", "operator": "=", "value": "critical"}]}
    assert [points(s) for s in answer({"target": "error_count"}, **level)] == [[0, 3]]
    payload = {"target": "error_by_level", "payload": '{"service": "pay"}'}
    assert [(s["target"], points(s)) for s in answer(payload)] == [("ERROR", [2, 1])]
    with pytest.raises(GrafanaRequestError, match="operator"):
        query({"target": "log_volume"}, adhocFilters=[{"key": "level", "operator": ">", "value": "x"}])
    with pytest.raises(GrafanaRequestError, match="payload is not JSON"):
        query({"target": "log_volume", "payload": "{"})


def test_a_table_target_answers_rows_per_bucket_service_and_level() -> None:
    [table] = answer({"target": "error_by_service", "refId": "T", "payload": {"format": "table"}})
    assert table["type"] == "table" and table["refId"] == "T"
    assert [column["text"] for column in table["columns"]] == ["Time", "service", "level", "count"]
    assert table["rows"] == [[T0 * 1000, "pay", "ERROR", 2], [(T0 + 60) * 1000, "pay", "ERROR", 1],
                             [(T0 + 60) * 1000, "shop", "CRITICAL", 3]]
    [volume] = answer({"target": "log_volume", "type": "table"})
    assert sum(row[3] for row in volume["rows"]) == 20


def test_annotations_are_criticals_new_groups_and_alerts_in_the_range_oldest_first() -> None:
    iso = "2027-01-15T08:00:30.000Z"  # T0 + 30
    criticals = [{"timestamp": iso, "service": "shop", "message": "disk " * 200}]
    groups = [{"first_seen": "2027-01-15T08:01:00.000Z", "service": "pay", "title": "KeyError"},
              {"first_seen": "2020-01-01T00:00:00.000Z", "service": "pay", "title": "old"}]
    alerts = [{"at": "2027-01-15T08:01:30.000Z", "started_at": "2027-01-15T08:00:10.000Z", "status": "resolved",
               "title": "errors high", "rule": "r1", "service": "pay"}]
    events = annotation_events(criticals, groups, alerts, T0, T0 + 119)
    assert [(event["time"], event["title"]) for event in events] == [
        ((T0 + 10) * 1000, "errors high"), ((T0 + 30) * 1000, "CRITICAL in shop"),
        ((T0 + 60) * 1000, "new error in pay")]
    assert events[0]["timeEnd"] == (T0 + 90) * 1000, "a resolved alert is a region"
    assert len(events[1]["text"]) == 500 and events[1]["tags"] == ["critical", "shop"]
    assert [e["title"] for e in annotation_events(criticals, groups, alerts, T0, T0 + 119, " Groups ")] == [
        "new error in pay"]
    frame = annotation_frame(events, "X")
    assert frame["refId"] == "X" and [field["name"] for field in frame["fields"]] == ["time", "title", "text", "tags"]
    assert frame["fields"][0]["values"] == [event["time"] for event in events]
    [answered] = answer({"target": "annotations", "refId": "N"}, events=events)
    assert answered == annotation_frame(events, "N")


def test_the_metrics_list_offers_every_target_with_its_payload_options() -> None:
    names = metric_names()
    assert [metric["value"] for metric in names] == list(TARGETS)
    assert all([payload["name"] for payload in metric["payloads"]] == ["service", "level", "format"]
               for metric in names)
    assert level_options() == list(LEVELS)
