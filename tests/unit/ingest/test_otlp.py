"""OTLP logs to records: the whole mapping table in both encodings, rejected records, bounds, the response."""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

from logmonitor.ingest import decoded
from logmonitor.ingest.decoded import BodyTooLarge, Decoded, UndecodableBody
from logmonitor.ingest.otlp import MAX_ATTRIBUTES, decode_otlp_json, export_response
from logmonitor.ingest.otlp_proto import decode_otlp_proto
from logmonitor.pipeline.native_shape import OPTIONAL_TEXT_LIMIT
from logmonitor.pipeline.records import MAX_EXTRA_DEPTH, parse_record
from logmonitor.timestamps import iso_timestamp
from tests.fixtures.otlp import encoded, export_request, log_record

ENCODINGS = ("proto", "json")
NANOS = (int(time.time()) - 60) * 1_000_000_000 + 123_456_789


def decode(request: Any, encoding: str) -> Decoded:
    body = encoded(request, encoding)
    return decode_otlp_proto(body) if encoding == "proto" else decode_otlp_json(body)


def records(request: Any, encoding: str) -> list[dict[str, Any]]:
    """The decoded records (none may be rejected), as the router will parse them."""
    result = decode(request, encoding)
    assert result.rejected == []
    for key, value in result.records:
        assert parse_record(value)["service"] == key
    return [orjson.loads(value) for _key, value in result.records]


def one(encoding: str, record: Any = None, **request: Any) -> dict[str, Any]:
    [only] = records(export_request([record or log_record()], **request), encoding)
    return only


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_field_of_the_log_data_model_maps_to_the_record(encoding: str) -> None:
    record = one(encoding, log_record(
        "payment declined", severity=17, text="Error", nanos=NANOS, observed_time_unix_nano=NANOS + 10**9,
        trace_id=bytes.fromhex("5b8efff798038103d269b633813fc60c"), span_id=bytes.fromhex("eee19b7ec3c1b174"),
        event_name="payment.declined", attributes={
            "exception.type": "CardError", "exception.message": "declined", "exception.stacktrace": "Traceback ...",
            "order": {"id": 42, "items": ["a", "b"]}, "region": "eu", "log.record.uid": "01J0ABC",
            "code.function.name": "charge", "code.line.number": 88, "thread.id": 7}),
        scope="shop.payments", resource={"host.name": "web-3", "region": "us", "deployment.environment": "prod",
                                         "process.pid": 4242, "service.version": "2.4.1"})
    assert record == {
        "id": "01J0ABC", "timestamp": iso_timestamp(NANOS / 1e9), "level": "ERROR", "service": "checkout",
        "host": "web-3", "logger": "shop.payments", "message": "payment declined",
        "trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174",
        "exception": {"type": "CardError", "message": "declined", "stacktrace": "Traceback ..."},
        "function": "charge", "line": 88, "thread": 7, "process": 4242, "release": "2.4.1", "environment": "prod",
        "extra": {"order": {"id": 42, "items": ["a", "b"]}, "region": "eu", "event.name": "payment.declined"},
    }, "a record's attribute wins over its resource's (region)"


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("resource", "release", "environment", "left_in_extra"), [
    ({"deployment.environment.name": "prod", "deployment.environment": "old"}, None, "prod",
     {"deployment.environment": "old"}),
    ({"service.version": "v" * 300}, "v" * 256, None, {}),
    ({"service.version": "  ", "deployment.environment.name": ""}, None, None,
     {"service.version": "  ", "deployment.environment.name": ""}),
    ({"service.version": 7}, None, None, {"service.version": 7}),
])
def test_release_and_environment_are_names_cut_to_their_bound_others_stay_in_extra(
        encoding: str, resource: dict[str, Any], release: str | None, environment: str | None,
        left_in_extra: dict[str, Any]) -> None:
    record = one(encoding, log_record("m"), resource=resource)
    assert (record.get("release"), record.get("environment"), record["extra"]) == (release, environment, left_in_extra)


SEVERITIES = [(number, level) for level, numbers in [
    ("DEBUG", range(1, 9)), ("INFO", range(9, 13)), ("WARNING", range(13, 17)), ("ERROR", range(17, 21)),
    ("CRITICAL", range(21, 25))] for number in numbers]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("number", "level"), SEVERITIES)
def test_each_severity_number_range_maps_to_its_level(encoding: str, number: int, level: str) -> None:
    assert one(encoding, log_record(severity=number, text="ignored when the number is set"))["level"] == level


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("text", "level"), [
    ("TRACE", "DEBUG"), ("debug", "DEBUG"), ("Information", "INFO"), ("WARN", "WARNING"), ("error", "ERROR"),
    ("FATAL", "CRITICAL"), ("nonsense", "INFO"), ("", "INFO")])
def test_without_a_severity_number_the_text_decides_else_info(encoding: str, text: str, level: str) -> None:
    assert one(encoding, log_record(severity=0, text=text))["level"] == level


def test_the_json_severity_number_may_be_the_enum_name() -> None:
    body = encoded(export_request([log_record(severity=0)]), "json").replace(
        b'"body"', b'"severityNumber":"SEVERITY_NUMBER_WARN2","body"')
    assert orjson.loads(decode_otlp_json(body).records[0][1])["level"] == "WARNING"


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("body", "message"), [
    ({"user": "ann", "ok": False, "n": 3, "ratio": 0.5, "tags": ["x", None]},
     '{"user":"ann","ok":false,"n":3,"ratio":0.5,"tags":["x",null]}'),
    ([1, "two"], '[1,"two"]'), (True, "true"), (7, "7"), (2.5, "2.5"), (b"\x00\xff", "AP8="), (None, "")])
def test_a_structured_body_becomes_compact_json_text(encoding: str, body: Any, message: str) -> None:
    assert one(encoding, log_record(body))["message"] == message


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_attribute_values_of_every_kind_become_json_values(encoding: str) -> None:
    values = {"s": "x", "b": True, "i": -(2**63), "d": 1.25, "bytes": b"\x01", "a": [1, [2]], "kv": {"k": {"n": None}}}
    assert one(encoding, log_record(attributes=values))["extra"] == {**values, "bytes": "AQ=="}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_missing_service_name_is_unknown_service_as_opentelemetry_names_it(encoding: str) -> None:
    assert one(encoding, service=None)["service"] == "unknown_service"
    assert one(encoding, service=None, resource={"process.executable.name": "java"})["service"] == \
        "unknown_service:java"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_observed_time_stands_in_for_a_missing_time_and_now_for_both(encoding: str) -> None:
    assert one(encoding, log_record(nanos=0, observed_time_unix_nano=NANOS))["timestamp"] == iso_timestamp(NANOS / 1e9)
    before = time.time()
    stamped = one(encoding, log_record(nanos=0))["timestamp"]
    assert iso_timestamp(before)[:16] <= stamped <= iso_timestamp(time.time())


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_zero_and_missing_trace_ids_are_none(encoding: str) -> None:
    record = one(encoding, log_record(trace_id=bytes(16), span_id=b""))
    assert "trace_id" not in record and "span_id" not in record


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_record_that_cannot_be_used_is_rejected_alone_with_the_routers_reason(encoding: str) -> None:
    request = export_request([log_record("kept"), log_record("too old", nanos=10**18),
                              log_record("x" * (1024 * 1024 + 1)), log_record("kept too")])
    result = decode(request, encoding)
    assert [orjson.loads(value)["message"] for _key, value in result.records] == ["kept", "kept too"]
    assert [rejected.reason.split(":")[0] for rejected in result.rejected] == ["stale_timestamp", "oversized"]
    assert result.rejected[1].raw.startswith(b"{"), "the rejected record's JSON, for the dead-letter topic"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_record_gets_a_fresh_id_unless_it_names_one(encoding: str) -> None:
    ids = [record["id"] for record in records(export_request([log_record(), log_record()]), encoding)]
    assert len(set(ids)) == 2 and all(len(i) == 32 for i in ids)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_attributes_beyond_the_sdk_limit_are_dropped_and_long_names_cut(encoding: str) -> None:
    many = {f"a{i:03d}": i for i in range(MAX_ATTRIBUTES + 50)}
    record = one(encoding, log_record(attributes=many), scope="s" * 5000, resource={"host.name": "h" * 5000})
    assert len(record["extra"]) == MAX_ATTRIBUTES
    assert record["logger"] == "s" * OPTIONAL_TEXT_LIMIT and record["host"] == "h" * OPTIONAL_TEXT_LIMIT


def nested_json_value(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"stringValue": "bottom"}
    for _ in range(depth):
        value = {"kvlistValue": {"values": [{"key": "k", "value": value}]}}
    return value


def test_json_values_nested_deeper_than_the_router_allows_reject_their_record() -> None:
    request = orjson.loads(encoded(export_request([log_record(), log_record()]), "json"))
    request["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"] = nested_json_value(MAX_EXTRA_DEPTH + 5)
    result = decode_otlp_json(json.dumps(request).encode())  # orjson writes at most 255 levels
    assert len(result.records) == 1 and result.rejected[0].reason.startswith("bad_extra")


def test_protobuf_nesting_is_bounded_by_the_parser_and_rejects_the_record_alone() -> None:
    request = export_request([log_record("deep"), log_record("kept")])
    value = request.resource_logs[0].scope_logs[0].log_records[0].body
    for _ in range(150):
        value = value.kvlist_value.values.add(key="k").value
    result = decode_otlp_proto(request.SerializeToString())
    assert [rejected.reason.split(":")[0] for rejected in result.rejected] == ["bad_protobuf"]
    assert [orjson.loads(value)["message"] for _key, value in result.records] == ["kept"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_more_records_than_the_bound_make_the_body_too_large(encoding: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoded, "MAX_RECORDS_PER_BODY", 3)
    assert len(decode(export_request([log_record()] * 3), encoding).records) == 3
    with pytest.raises(BodyTooLarge, match="too_many_records"):
        decode(export_request([log_record()] * 4), encoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_resource_attributes_copied_into_many_records_are_bounded(encoding: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoded, "MAX_DECODED_BYTES", 100_000)
    request = export_request([log_record("")] * 20, resource={"big": "x" * 10_000})
    with pytest.raises(BodyTooLarge, match="too_large"):
        decode(request, encoding)


@pytest.mark.parametrize(("body", "reason"), [
    (b"\xff\xfe not protobuf", "bad_protobuf"), (b"\x0a\x05\x0a", "bad_protobuf")])
def test_a_body_that_is_no_protobuf_request_is_undecodable(body: bytes, reason: str) -> None:
    with pytest.raises(UndecodableBody, match=reason):
        decode_otlp_proto(body)


@pytest.mark.parametrize(("body", "reason"), [
    (b"{not json", "bad_json"), (b"[]", "bad_json"), (b'{"resourceLogs": {}}', "bad_otlp"),
    (b'{"resourceLogs": [{"scopeLogs": 3}]}', "bad_otlp"),
    (b'{"resourceLogs": [{"resource": {"attributes": 5}}]}', "bad_resource")])
def test_a_body_that_is_no_otlp_json_request_is_undecodable(body: bytes, reason: str) -> None:
    with pytest.raises(UndecodableBody, match=reason):
        decode_otlp_json(body)


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("timeUnixNano", "soon", "bad_timestamp"), ("timeUnixNano", -1, "bad_timestamp"),
    ("traceId", "not hex", "bad_traceId"), ("severityText", 5, "bad_severityText"),
    ("attributes", {"k": "v"}, "bad_attributes"), ("body", {"intValue": "1e99"}, "bad_value")])
def test_a_json_record_with_a_wrong_field_is_rejected_alone(field: str, value: Any, reason: str) -> None:
    request = orjson.loads(encoded(export_request([log_record(), log_record()]), "json"))
    request["resourceLogs"][0]["scopeLogs"][0]["logRecords"][1][field] = value
    result = decode_otlp_json(orjson.dumps(request))
    assert len(result.records) == 1 and result.rejected[0].reason.startswith(reason)


def test_json_integers_may_be_numbers_or_text() -> None:
    text = encoded(export_request([log_record(nanos=NANOS, attributes={"n": 5})]), "json")
    as_numbers = text.replace(f'"{NANOS}"'.encode(), str(NANOS).encode()).replace(b'"intValue":"5"', b'"intValue":5')
    assert as_numbers != text
    assert orjson.loads(decode_otlp_json(as_numbers).records[0][1])["extra"] == {"n": 5}


def test_the_response_counts_rejected_records_in_the_requests_encoding() -> None:
    response = ExportLogsServiceResponse.FromString(export_response(2, "2 records were too old", proto=True))
    assert response.partial_success.rejected_log_records == 2
    assert response.partial_success.error_message == "2 records were too old"
    assert export_response(0, "", proto=True) == b""
    assert orjson.loads(export_response(2, "old", proto=False)) == {
        "partialSuccess": {"rejectedLogRecords": "2", "errorMessage": "old"}}
    assert orjson.loads(export_response(0, "", proto=False)) == {}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_breadcrumbs_come_from_the_logmonitor_breadcrumbs_attribute_as_maps_or_json_text(encoding: str) -> None:
    crumbs = [{"timestamp": "2026-12-06T10:00:00.000Z", "level": "INFO", "logger": "shop", "message": "paying"}]
    as_maps = one(encoding, log_record("failed", severity=17, attributes={"logmonitor.breadcrumbs": crumbs}))
    as_text = one(encoding, log_record("failed", severity=17,
                                       attributes={"logmonitor.breadcrumbs": orjson.dumps(crumbs).decode()}))
    assert as_maps["breadcrumbs"] == as_text["breadcrumbs"] == crumbs
    assert "logmonitor.breadcrumbs" not in as_maps["extra"]
    assert parse_record(orjson.dumps(as_maps))["breadcrumbs"] == crumbs
