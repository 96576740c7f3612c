"""parse_record: the normalised record, and every kind of invalid record with its reason."""

import time

import orjson
import pytest

from logmonitor.pipeline.native_shape import decode_native
from logmonitor.pipeline.records import MAX_RECORD_BYTES, InvalidRecord, parse_record
from logmonitor.timestamps import epoch_of, iso_timestamp

NOW = 1_795_500_000.0


def native(**fields: object) -> bytes:
    record = {"timestamp": iso_timestamp(NOW), "level": "ERROR", "service": "booking", "message": "boom"}
    record.update(fields)
    return orjson.dumps(record)


def reason(raw: bytes) -> str:
    with pytest.raises(InvalidRecord) as caught:
        parse_record(raw, fallback_id="p-0", now=NOW)
    return caught.value.reason.split(":")[0]


def test_native_record_keeps_every_field() -> None:
    raw = native(
        id="abc", host="h1", logger="app.db", module="db", function="connect", line=42, process=7, thread=9,
        request_id="r1", trace_id="t1", span_id="s1", user_id="u1", extra={"order": 5},
        exception={"type": "ValueError", "message": "bad", "stacktrace": "Traceback ..."},
    )
    record = parse_record(raw, fallback_id="p-0", now=NOW)
    assert record["id"] == "abc"
    assert record["timestamp"] == iso_timestamp(NOW) and record["epoch"] == NOW
    assert (record["level"], record["service"], record["host"]) == ("ERROR", "booking", "h1")
    assert (record["module"], record["function"], record["line"], record["thread"]) == ("db", "connect", 42, 9)
    assert (record["request_id"], record["trace_id"], record["span_id"], record["user_id"]) == ("r1", "t1", "s1", "u1")
    assert record["extra"] == {"order": 5}
    assert record["exception"] == {"type": "ValueError", "message": "bad", "stacktrace": "Traceback ..."}


def test_missing_id_falls_back_to_the_source_position() -> None:
    assert parse_record(native(), fallback_id="logs-3-17", now=NOW)["id"] == "logs-3-17"
    assert parse_record(native(), now=NOW)["id"] is None


@pytest.mark.parametrize("millis", ["379", "000", "999"])
def test_canonical_timestamps_keep_their_milliseconds(millis: str) -> None:
    timestamp = f"2026-11-26T06:31:16.{millis}Z"
    record = parse_record(native(timestamp=timestamp), now=epoch_of(timestamp))
    assert (record["timestamp"], record["epoch"]) == (timestamp, epoch_of(timestamp))


@pytest.mark.parametrize("timestamp", [
    "2026-11-26T06:31:1\u0666.379Z",  # \\d matches any Unicode digit
    "2026-13-01T00:00:00.000Z", "2026-11-26T06:31:60.000Z", "2026-02-30T00:00:00.000Z",  # shaped like ours, no time
])
def test_a_canonical_looking_timestamp_that_is_no_time_is_refused_not_raised(timestamp: str) -> None:
    """Each once raised ValueError out of parse_record, so out of the router's batch handler."""
    with pytest.raises(InvalidRecord) as invalid:
        parse_record(native(timestamp=timestamp), now=epoch_of("2026-11-26T06:31:16.000Z"))
    assert invalid.value.reason.startswith("bad_timestamp")


@pytest.mark.parametrize("millis", ["\u0663\u0667\u0669", "3 9", "+37", "37"])
def test_near_canonical_timestamps_are_read_as_iso_or_refused(millis: str) -> None:
    timestamp = f"2026-11-26T06:31:16.{millis}Z"
    try:
        record = parse_record(native(timestamp=timestamp), now=epoch_of("2026-11-26T06:31:16.000Z"))
    except InvalidRecord as invalid:
        assert invalid.reason.startswith("bad_timestamp")
    else:
        assert record["timestamp"] == iso_timestamp(record["epoch"]) != timestamp


def test_level_aliases_are_normalised() -> None:
    assert parse_record(native(level="warn"), fallback_id="x", now=NOW)["level"] == "WARNING"
    assert parse_record(native(level="fatal"), fallback_id="x", now=NOW)["level"] == "CRITICAL"


def test_ecs_record_is_normalised() -> None:
    raw = orjson.dumps({
        "@timestamp": iso_timestamp(NOW), "log": {"level": "error", "logger": "com.shop.Pay"},
        "service": {"name": "payment-java"}, "host": {"name": "pay-1"}, "message": "charge failed",
        "error": {"type": "java.io.IOException", "message": "reset", "stack_trace": "at Pay.charge"},
        "trace": {"id": "t-9"},
    })
    record = parse_record(raw, fallback_id="x", now=NOW)
    assert (record["service"], record["level"], record["host"], record["logger"]) == (
        "payment-java", "ERROR", "pay-1", "com.shop.Pay")
    assert record["exception"] == {"type": "java.io.IOException", "message": "reset", "stacktrace": "at Pay.charge"}
    assert record["trace_id"] == "t-9"


def test_otel_record_is_normalised() -> None:
    raw = orjson.dumps({
        "timeUnixNano": str(int(NOW * 1e9)), "severityNumber": 21, "body": {"stringValue": "out of memory"},
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout-go"}}]},
        "traceId": "abc", "spanId": "def",
        "attributes": [{"key": "exception.type", "value": {"stringValue": "OOM"}}],
    })
    record = parse_record(raw, fallback_id="x", now=NOW)
    assert (record["service"], record["level"], record["message"]) == ("checkout-go", "CRITICAL", "out of memory")
    assert (record["trace_id"], record["span_id"], record["epoch"]) == ("abc", "def", NOW)
    assert record["exception"]["type"] == "OOM"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "empty"),
        (b"not json", "not_json"),
        (b"[1, 2]", "not_object"),
        (b"\xff\xfe\x00garbage", "not_utf8"),
        (orjson.dumps({"level": "ERROR", "message": "m"}), "bad_service"),
        (native(level="FOO"), "bad_level"),
        (native(level=3), "bad_level"),
        (native(message=None), "bad_message"),
        (native(message=["a"]), "bad_message"),
        (native(service=""), "bad_service"),
        (native(timestamp="2999-01-01T00:00:00Z"), "future_timestamp"),
        (native(timestamp="1970-01-02T00:00:00Z"), "stale_timestamp"),
        (native(timestamp="yesterday"), "bad_timestamp"),
        (native(line="42"), "bad_line"),
        (native(extra=[1]), "bad_extra"),
        (native(exception="boom"), "bad_exception"),
        (native(message="x" * (MAX_RECORD_BYTES + 1)), "oversized"),
    ],
)
def test_invalid_records_are_rejected_with_a_reason(raw: bytes, expected: str) -> None:
    assert reason(raw) == expected


def test_iso_timestamp_has_milliseconds_and_z() -> None:
    assert iso_timestamp(0.5) == "1970-01-01T00:00:00.500Z"
    assert iso_timestamp(time.time()).endswith("Z")


NATIVE_VARIANTS = [
    native(),
    native(id="abc", host="h1", logger="app.db", module="db", function="connect", line=42, process=7, thread="T-1",
           request_id="r1", trace_id="t1", span_id="s1", user_id="u1", extra={"order": {"id": 5, "items": [1, 2]}},
           exception={"type": "ValueError", "message": "bad", "stacktrace": "Traceback ..."}),
    native(level="warn", id="", exception={"type": "KeyError"}, thread=3),
    native(level=" Fatal "),
    native(timestamp=NOW - 5),
    native(timestamp=int(NOW) - 7),
    native(timestamp=iso_timestamp(NOW - 61.5)),
    native(timestamp=iso_timestamp(NOW)[:19] + "+01:00"),
    native(timestamp=iso_timestamp(NOW)[:19]),
    orjson.dumps({"level": "INFO", "service": "booking", "message": "no timestamp: now"}),
    native(service=" booking "),
    native(release="2.4.1", environment="production"),
    native(release="r" * 256, environment=None),
    native(breadcrumbs=[{"timestamp": "2026-12-06T10:00:00.000Z", "level": "INFO", "logger": "app", "message": "a"},
                        {"timestamp": "t", "level": "warn", "logger": None, "message": "b", "category": "http"}]),
    native(breadcrumbs=None),
    native(breadcrumbs=[]),
    b'{"level": "INFO", "service": "booking", "message": "m", "extra": {"n": 123456789012345678901}}',
]


@pytest.mark.parametrize("raw", NATIVE_VARIANTS)
def test_the_native_fast_path_gives_what_the_general_path_gives(raw: bytes) -> None:
    from logmonitor.pipeline.records import _from_any_shape  # the path every shape takes

    assert decode_native(raw) is not None
    assert parse_record(raw, fallback_id="p-0", now=NOW) == _from_any_shape(raw, "p-0", NOW)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (native(service="   "), "bad_service"),
        (native(level="FOO", service="   "), "bad_level"),
        (native(timestamp="2026-11-26T06:31:16.3x9Z"), "bad_timestamp"),
        (native(timestamp=iso_timestamp(NOW + 2 * 86400)), "future_timestamp"),
        (native(timestamp=None), "bad_timestamp"),
        (native(thread=True), None),
        (native(host="h" * 1025), "bad_host"),
        (native(id="i" * 129), "bad_id"),
        (native(line=True), "bad_line"),
        (native(extra=None), "bad_extra"),
        (native(release="  "), "bad_release"),
        (native(release=""), "bad_release"),
        (native(environment="\t"), "bad_environment"),
        (native(release="r" * 257), "bad_release"),
        (native(environment="e" * 257), "bad_environment"),
        (native(release=241), "bad_release"),
        (native(environment=["prod"]), "bad_environment"),
        (native(release={"version": "1"}), "bad_release"),
        (native(breadcrumbs="cart loaded"), "bad_breadcrumbs"),
        (native(breadcrumbs=[{"level": "INFO", "message": "m"}]), "bad_breadcrumbs"),
        (native(breadcrumbs=[{"timestamp": "t", "level": "LOUD", "message": "m"}]), "bad_breadcrumbs"),
        (native(breadcrumbs=[{"timestamp": "t", "level": "INFO", "message": 5}]), "bad_breadcrumbs"),
        (native(breadcrumbs=[{"timestamp": "t", "level": "INFO", "logger": 5, "message": "m"}]), "bad_breadcrumbs"),
        (native(breadcrumbs=[["t", "INFO", "m"]]), "bad_breadcrumbs"),
        (native(breadcrumbs=[{"timestamp": "t", "level": "INFO", "message": "m"}] * 101), "bad_breadcrumbs"),
        (native(breadcrumbs=[{"timestamp": "t", "level": "INFO", "message": "m" * 40_000}] * 2), "bad_breadcrumbs"),
    ],
)
def test_records_the_fast_path_refuses_get_the_general_paths_answer(raw: bytes, expected: str | None) -> None:
    if expected is None:
        assert parse_record(raw, fallback_id="p-0", now=NOW)["thread"] is None
    else:
        assert reason(raw) == expected


def outcome(parse: object) -> object:
    try:
        return parse()  # type: ignore[operator]
    except InvalidRecord as invalid:
        return invalid.reason


@pytest.mark.parametrize(
    "raw",
    [
        orjson.dumps({"level": "INFO", "service": "booking", "message": "m", "unknown": [1]}),
        b'{"level": "INFO", "service": "booking", "message": "\xff\xfe"}',
        b'{"level": "INFO", "service": "booking", "message": "m", "line": 123456789012345678901}',
        b'{"level": "INFO", "service": "booking", "message": "m", "extra": {"a": ' + b"[" * 2000 + b"]" * 2000 + b"}}",
        b'{"level": "INFO", "service": "booking", "message": "m", "timestamp": 1e400}',
        native(exception={"type": "E", "cause": "other"}),
    ],
)
def test_records_outside_the_native_type_take_the_general_path(raw: bytes) -> None:
    from logmonitor.pipeline.records import _from_any_shape

    assert decode_native(raw) is None
    assert outcome(lambda: parse_record(raw, fallback_id="p-0", now=NOW)) == outcome(
        lambda: _from_any_shape(raw, "p-0", NOW))


def test_a_native_record_with_an_ecs_or_otel_mark_is_read_as_that_shape() -> None:
    ecs = native(**{"@timestamp": iso_timestamp(NOW), "log.level": "error", "service.name": "pay"})
    assert parse_record(ecs, fallback_id="p-0", now=NOW)["service"] == "pay"
    otel = native(severityText="WARN", resource={"attributes": {"service.name": "pay"}}, body="hi")
    assert parse_record(otel, fallback_id="p-0", now=NOW)["level"] == "WARNING"


def test_release_and_environment_are_optional_names() -> None:
    record = parse_record(native(release="2.4.1", environment="staging"), fallback_id="p-0", now=NOW)
    assert (record["release"], record["environment"]) == ("2.4.1", "staging")
    bare = parse_record(native(), fallback_id="p-0", now=NOW)
    assert (bare["release"], bare["environment"]) == (None, None)
    assert parse_record(native(release=None), fallback_id="p-0", now=NOW)["release"] is None


def test_plain_json_with_unknown_fields_keeps_release_and_environment() -> None:
    raw = orjson.dumps({"level": "ERROR", "service": "pay", "message": "m", "release": "v9", "environment": "prod",
                        "region": "eu"})
    record = parse_record(raw, fallback_id="p-0", now=NOW)
    assert (record["release"], record["environment"]) == ("v9", "prod")


@pytest.mark.parametrize("service", [
    {"name": "pay", "version": "3.1.0", "environment": "production"},
    None,
])
def test_ecs_service_version_and_environment_are_the_release_and_environment(service: object) -> None:
    doc: dict[str, object] = {"@timestamp": iso_timestamp(NOW), "log.level": "error", "message": "m"}
    if service is None:  # the dotted spelling some encoders write
        doc.update({"service.name": "pay", "service.version": "3.1.0", "service.environment": "production"})
    else:
        doc["service"] = service
    record = parse_record(orjson.dumps(doc), fallback_id="p-0", now=NOW)
    assert (record["service"], record["release"], record["environment"]) == ("pay", "3.1.0", "production")


@pytest.mark.parametrize(("environment_key", "expected"), [
    ("deployment.environment.name", "production"),
    ("deployment.environment", "production"),
    ("something.else", None),
])
def test_otel_resource_gives_release_and_environment(environment_key: str, expected: str | None) -> None:
    attributes = [{"key": "service.name", "value": {"stringValue": "checkout-go"}},
                  {"key": "service.version", "value": {"stringValue": "1.2.3"}},
                  {"key": environment_key, "value": {"stringValue": "production"}}]
    raw = orjson.dumps({"timeUnixNano": str(int(NOW * 1e9)), "severityText": "ERROR", "body": "m",
                        "resource": {"attributes": attributes}})
    record = parse_record(raw, fallback_id="p-0", now=NOW)
    assert (record["release"], record["environment"]) == ("1.2.3", expected)


@pytest.mark.parametrize("doc", [
    {"@timestamp": iso_timestamp(NOW), "log.level": "error", "message": "m",
     "service": {"name": "pay", "version": 3}},
    {"@timestamp": iso_timestamp(NOW), "log.level": "error", "message": "m",
     "service": {"name": "pay", "version": "v" * 300}},
    {"timeUnixNano": str(int(NOW * 1e9)), "severityText": "ERROR", "body": "m",
     "resource": {"attributes": {"service.name": "go", "service.version": " "}}},
])
def test_an_unusable_release_from_any_shape_is_dead_lettered_with_its_reason(doc: dict[str, object]) -> None:
    assert reason(orjson.dumps(doc)) == "bad_release"


def test_breadcrumbs_are_kept_as_four_fields_with_their_level_normalised() -> None:
    crumbs = [{"timestamp": "2026-12-06T10:00:00.000Z", "level": "debug", "message": "cart loaded", "data": {"n": 1}},
              {"timestamp": "2026-12-06T10:00:01.000Z", "level": "INFO", "logger": "shop", "message": "paying"}]
    record = parse_record(native(breadcrumbs=crumbs), fallback_id="p-0", now=NOW)
    assert record["breadcrumbs"] == [
        {"timestamp": "2026-12-06T10:00:00.000Z", "level": "DEBUG", "logger": None, "message": "cart loaded"},
        {"timestamp": "2026-12-06T10:00:01.000Z", "level": "INFO", "logger": "shop", "message": "paying"}]
    assert parse_record(native(), fallback_id="p-0", now=NOW)["breadcrumbs"] is None


def test_breadcrumbs_at_the_bounds_are_kept() -> None:
    crumb = {"timestamp": "t", "level": "INFO", "logger": None, "message": ""}
    overhead = len(orjson.dumps([crumb] * 100))
    crumbs = [crumb] * 99 + [{**crumb, "message": "m" * (64 * 1024 - overhead)}]
    assert len(orjson.dumps(crumbs)) == 64 * 1024
    assert parse_record(native(breadcrumbs=crumbs), fallback_id="p-0", now=NOW)["breadcrumbs"] == crumbs
    crumbs[-1]["message"] += "m"
    assert reason(native(breadcrumbs=crumbs)) == "bad_breadcrumbs"


def test_an_otel_record_carries_breadcrumbs_in_an_attribute() -> None:
    crumbs = [{"timestamp": "2026-12-06T10:00:00.000Z", "level": "INFO", "logger": "shop", "message": "paying"}]
    raw = orjson.dumps({"timeUnixNano": str(int(NOW * 1e9)), "severityText": "ERROR", "body": "failed",
                        "resource": {"attributes": {"service.name": "go"}},
                        "attributes": {"logmonitor.breadcrumbs": orjson.dumps(crumbs).decode()}})
    assert parse_record(raw, fallback_id="p-0", now=NOW)["breadcrumbs"] == crumbs
