"""The Grafana datasource, with requests exactly as classic SimpleJSON and simPod send them."""

from __future__ import annotations

import asyncio
import time
import urllib.error
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest

from logmonitor.timestamps import iso_timestamp
from tests.fixtures.traffic import keyed, log_record, produce

NOW = time.time()
MINUTE = 60


def iso_z(epoch: float) -> str:
    """Grafana's range format: ISO with milliseconds and Z."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


RECORDS = [
    # booking: 3 ERROR two minutes ago, 1 ERROR now; payment: 2 ERROR + 1 CRITICAL now; plus INFO noise
    *[log_record("booking", "ERROR", f"room {i} double-booked", timestamp=iso_timestamp(NOW - 2 * MINUTE))
      for i in range(3)],
    log_record("booking", "ERROR", "room 9 double-booked", timestamp=iso_timestamp(NOW)),
    *[log_record("payment", "ERROR", f"card declined {i}", timestamp=iso_timestamp(NOW)) for i in range(2)],
    log_record("payment", "CRITICAL", "gateway unreachable", timestamp=iso_timestamp(NOW)),
    *[log_record("booking", "INFO", f"booked {i}", timestamp=iso_timestamp(NOW)) for i in range(5)],
]
ERRORS = 7


@pytest.fixture(scope="module")
def worker(module_worker: Any) -> Any:
    env = module_worker.env
    asyncio.run(produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], keyed(RECORDS)))
    module_worker.wait_counted(len(RECORDS))
    return module_worker


def classic_query(*targets: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A /query body as classic SimpleJSON sends it (Grafana 10)."""
    return {
        "app": "dashboard", "requestId": "Q100", "timezone": "browser", "panelId": 2, "dashboardId": None,
        "range": {"from": iso_z(NOW - 3600), "to": iso_z(NOW + 30), "raw": {"from": "now-1h", "to": "now"}},
        "timeInfo": "", "interval": "1m", "intervalMs": 60_000, "maxDataPoints": 1200,
        "targets": list(targets), "scopedVars": {"__interval": {"text": "1m", "value": "1m"}},
        "startTime": int(NOW * 1000), "rangeRaw": {"from": "now-1h", "to": "now"}, "adhocFilters": [],
        **extra,
    }


def simpod_target(target: str, payload: Any = None, ref_id: str = "A", **extra: Any) -> dict[str, Any]:
    """A target as the simPod JSON datasource sends it (every field kept, no ``type``)."""
    return {"refId": ref_id, "datasource": {"type": "simpod-json-datasource", "uid": "logmonitor"},
            "editorMode": "code", "target": target, "payload": {} if payload is None else payload, **extra}


def total(series: dict[str, Any]) -> float:
    return sum(value for value, _ms in series["datapoints"])


def test_connection_test_answers_with_and_without_trailing_slash(worker: Any) -> None:
    assert worker.get_json("/api/v1/grafana")["status"] == "ok"
    assert worker.get_json("/api/v1/grafana/")["status"] == "ok"


def test_search_and_metrics_list_the_targets(worker: Any) -> None:
    status, names = worker.post("/api/v1/grafana/search", {"target": ""})
    assert status == 200 and {"error_count", "error_by_service", "error_by_level", "log_volume",
                              "error_rate"} <= set(names)
    status, metrics = worker.post("/api/v1/grafana/metrics", {})
    assert status == 200 and {m["value"] for m in metrics} >= set(names)
    assert all(isinstance(m["payloads"], list) for m in metrics)
    status, options = worker.post("/api/v1/grafana/metric-payload-options",
                                  {"metric": "error_count", "payload": {}, "name": "service"})
    assert status == 200 and {o["value"] for o in options} == {"booking", "payment"}


def test_classic_time_series_are_epoch_ms_ascending_and_exact(worker: Any) -> None:
    body = classic_query({"target": "error_count", "refId": "A", "type": "timeserie"},
                         {"target": "log_volume", "refId": "B", "type": "timeserie", "hide": True},
                         {"target": "no_such_target", "refId": "C"})
    status, answer = worker.post("/api/v1/grafana/query", body)
    assert status == 200 and len(answer) == 1, "hidden and unknown targets are dropped"
    series = answer[0]
    times = [ms for _value, ms in series["datapoints"]]
    assert series["target"] == "error_count" and times == sorted(times)
    assert all(isinstance(ms, int) and ms % 60_000 == 0 for ms in times)
    assert times[0] >= (NOW - 3600 - 60) * 1000 and times[-1] <= (NOW + 30) * 1000
    assert total(series) == ERRORS


def test_max_data_points_and_interval_choose_the_bucket(worker: Any) -> None:
    body = classic_query({"target": "error_count", "refId": "A"}, maxDataPoints=10, intervalMs=1000)
    answer = worker.post("/api/v1/grafana/query", body)[1]
    points = answer[0]["datapoints"]
    assert len(points) <= 10 and total(answer[0]) == ERRORS
    step = points[1][1] - points[0][1]
    assert step >= 360_000 and step % 60_000 == 0


def test_error_rate_is_per_minute_of_its_bucket(worker: Any) -> None:
    body = classic_query({"target": "error_rate", "refId": "A"}, intervalMs=300_000)
    series = worker.post("/api/v1/grafana/query", body)[1][0]
    assert abs(total(series) * 5 - ERRORS) < 1e-6


def test_by_service_by_level_and_ad_hoc_filters(worker: Any) -> None:
    answer = worker.post("/api/v1/grafana/query", classic_query({"target": "error_by_service", "refId": "A"}))[1]
    assert {s["target"]: total(s) for s in answer} == {"booking": 4, "payment": 3}
    answer = worker.post("/api/v1/grafana/query", classic_query({"target": "error_by_level", "refId": "A"}))[1]
    assert {s["target"]: total(s) for s in answer} == {"CRITICAL": 1, "ERROR": 6}
    classic = classic_query({"target": "error_count", "refId": "A"},
                            adhocFilters=[{"key": "service", "operator": "=", "value": "payment"}])
    assert total(worker.post("/api/v1/grafana/query", classic)[1][0]) == 3
    simpod = classic_query(simpod_target("error_count"), filters=[{"key": "service", "operator": "!=",
                                                                    "value": "payment"}])
    del simpod["adhocFilters"]
    assert total(worker.post("/api/v1/grafana/query", simpod)[1][0]) == 4
    with_payload = classic_query(simpod_target("log_volume", {"service": "booking", "level": "INFO"}))
    assert total(worker.post("/api/v1/grafana/query", with_payload)[1][0]) == 5


def test_table_format_from_type_or_payload(worker: Any) -> None:
    for target in ({"target": "error_by_service", "refId": "A", "type": "table"},
                   simpod_target("error_by_service", {"format": "table"})):
        table = worker.post("/api/v1/grafana/query", classic_query(target))[1][0]
        assert table["type"] == "table"
        assert [c["text"] for c in table["columns"]] == ["Time", "service", "level", "count"]
        assert sum(row[3] for row in table["rows"]) == ERRORS


@pytest.mark.parametrize(("raw", "content_type"), [(b"", "application/json"), (b"null", "application/json"),
                                                   (b'{"targets": []}', "text/plain;charset=UTF-8")])
def test_empty_null_and_text_plain_bodies(worker: Any, raw: bytes, content_type: str) -> None:
    assert worker.post("/api/v1/grafana/query", raw=raw, content_type=content_type) == (200, [])
    status, names = worker.post("/api/v1/grafana/search", raw=raw, content_type=content_type)
    assert status == 200 and "error_count" in names
    assert worker.post("/api/v1/grafana/tag-keys", raw=raw, content_type=content_type)[0] == 200


def test_annotations_for_critical_errors_and_new_groups(worker: Any) -> None:
    body = {"range": {"from": iso_z(NOW - 3600), "to": iso_z(NOW + 30)},
            "rangeRaw": {"from": "now-1h", "to": "now"},
            "annotation": {"name": "incidents", "datasource": "logmonitor", "enable": True,
                           "iconColor": "red", "query": ""}}
    status, events = worker.post("/api/v1/grafana/annotations", body)
    assert status == 200
    critical = [e for e in events if "critical" in e["tags"]]
    assert [(e["text"], e["tags"]) for e in critical] == [("gateway unreachable", ["critical", "payment"])]
    assert {e["tags"][1] for e in events if "new-group" in e["tags"]} == {"booking", "payment"}
    assert all(isinstance(e["time"], int) and e["annotation"]["name"] == "incidents" for e in events)
    body["annotation"]["query"] = "critical"
    assert len(worker.post("/api/v1/grafana/annotations", body)[1]) == 1

    frame = worker.post("/api/v1/grafana/query", classic_query(simpod_target("annotations")))[1][0]
    fields = {field["name"]: field["values"] for field in frame["fields"]}
    assert "gateway unreachable" in fields["text"] and len(fields["time"]) == len(fields["tags"])


def test_tag_keys_values_and_variables(worker: Any) -> None:
    assert worker.post("/api/v1/grafana/tag-keys", {})[1] == [{"type": "string", "text": "service"},
                                                             {"type": "string", "text": "level"}]
    assert worker.post("/api/v1/grafana/tag-values", {"key": "service"})[1] == [{"text": "booking"},
                                                                              {"text": "payment"}]
    assert {"text": "CRITICAL"} in worker.post("/api/v1/grafana/tag-values", {"key": "level"})[1]
    assert worker.post("/api/v1/grafana/tag-values", {"key": "host"})[1] == []
    variables = worker.post("/api/v1/grafana/variable", {"payload": {}, "range": {}})[1]
    assert variables == [{"__text": "booking", "__value": "booking"}, {"__text": "payment", "__value": "payment"}]


@pytest.mark.parametrize("body", [
    b"{not json", b"[1, 2]", b'{"range": {"from": "yesterday", "to": "now"}, "targets": [{"target": "error_count"}]}',
    b'{"targets": [{"target": "error_count"}], "maxDataPoints": -5}',
    b'{"targets": [{"target": "error_count"}], "adhocFilters": [{"key": "service", "operator": "<>", "value": "x"}]}',
])
def test_bad_requests_get_a_400_with_a_json_error(worker: Any, body: bytes) -> None:
    status, error = worker.post("/api/v1/grafana/query", raw=body)
    assert status == 400 and error["error"] == "bad_parameter" and error["detail"]


def test_unknown_route_is_a_json_404_and_get_on_a_route_a_json_405(worker: Any) -> None:
    status, error = worker.post("/api/v1/grafana/nope", {})
    assert status == 404 and error["error"] == "not_found"
    with pytest.raises(urllib.error.HTTPError) as raised:
        worker.get_json("/api/v1/grafana/query")
    assert raised.value.code == 405 and raised.value.headers["Allow"] == "POST"
    assert orjson.loads(raised.value.read())["error"] == "method_not_allowed"
