"""Properties of the record parser on generated input: it raises InvalidRecord or gives a usable record."""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from logmonitor.handler.redaction import Redactor
from logmonitor.levels import ERROR_LEVELS
from logmonitor.pipeline.native_shape import native_service
from logmonitor.pipeline.records import MAX_EXTRA_DEPTH, InvalidRecord, parse_record

NOW = time.time()
COUNTED = ("service", "level", "epoch", "timestamp", "host", "release")  # what the tables count of a record below ERROR

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)
LEVELS = st.sampled_from(["ERROR", "info", "Warn", "FATAL", "severe", "bogus", "", " ERROR "])
TIMESTAMPS = st.sampled_from([
    "2026-11-26T06:31:16.379Z", "2026-11-26T06:31:16Z", "2026-13-01T00:00:00Z", "2026-13-01T00:00:00.000Z",
    "0001-01-01T00:00:00+14:00",
    "yesterday", "",
]) | st.floats(min_value=-1e300, max_value=1e300) | st.integers(min_value=-(2**70), max_value=2**70)


def shaped(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with some of ``fields`` (each a plausible or a random value) and random others."""
    return st.fixed_dictionaries({}, optional={name: values | json_values for name, values in fields.items()}).flatmap(
        lambda doc: st.dictionaries(st.text(max_size=12), json_values, max_size=3).map(lambda more: {**more, **doc}))


NATIVE = shaped({
    "id": st.text(max_size=140), "timestamp": TIMESTAMPS, "level": LEVELS, "service": st.text(max_size=300),
    "message": st.text(), "host": st.text(), "line": st.integers(), "thread": st.integers() | st.text(),
    "exception": st.fixed_dictionaries({}, optional={"type": st.text(), "message": st.text(), "stacktrace": st.text()}),
    "extra": st.dictionaries(st.text(max_size=10), json_values),
    "release": st.text(max_size=300), "environment": st.text(max_size=20),
})
ECS = shaped({
    "@timestamp": TIMESTAMPS, "log.level": LEVELS, "service.name": st.text(max_size=20), "message": st.text(),
    "log": st.fixed_dictionaries({"level": LEVELS}), "service": st.fixed_dictionaries(
        {"name": st.text(max_size=20)}, optional={"version": st.text(max_size=300), "environment": st.text()}),
    "error": st.fixed_dictionaries({}, optional={"type": st.text(), "message": st.text(), "stack_trace": st.text()}),
})
OTEL = shaped({
    "timeUnixNano": st.integers(min_value=0, max_value=2**70) | st.text(max_size=25), "severityText": LEVELS,
    "severityNumber": st.integers(min_value=-5, max_value=30), "body": st.text() | st.fixed_dictionaries(
        {"stringValue": st.text()}), "resource": st.fixed_dictionaries({"attributes": st.lists(
            st.fixed_dictionaries({"key": st.just("service.name"), "value": st.fixed_dictionaries(
                {"stringValue": st.text(max_size=20)})}), max_size=2)}),
    "attributes": st.dictionaries(st.sampled_from(["exception.type", "exception.message", "x"]), json_values),
})


def encode(value: Any) -> bytes:
    """JSON bytes of any generated value (the standard library writes integers beyond 64 bits too)."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def assert_parses_or_is_invalid(raw: bytes) -> None:
    """parse_record's whole contract for the router: InvalidRecord, or a record it can redact and forward.

    What the router asks for (``counted_only``) is invalid for the same reason, or the same record, or
    of a record below ERROR the fields the tables count.
    """
    try:
        record = parse_record(raw, now=NOW)
    except InvalidRecord as invalid:
        assert invalid.reason.split(":", 1)[0].isidentifier()
        with pytest.raises(InvalidRecord) as counted_only:
            parse_record(raw, now=NOW, counted_only=True)
        assert counted_only.value.reason == invalid.reason
        return
    counted = parse_record(raw, now=NOW, counted_only=True)
    assert counted == (record if record["level"] in ERROR_LEVELS else {field: record[field] for field in COUNTED})
    Redactor().record(record)
    orjson.dumps(record)


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_parse_or_are_invalid(raw: bytes) -> None:
    assert_parses_or_is_invalid(raw)


@given(json_values)
def test_arbitrary_json_parses_or_is_invalid(value: Any) -> None:
    assert_parses_or_is_invalid(encode(value))


@given(NATIVE | ECS | OTEL)
def test_record_shaped_objects_parse_or_are_invalid(doc: dict[str, Any]) -> None:
    assert_parses_or_is_invalid(encode(doc))


@given(NATIVE, st.integers(min_value=0, max_value=400), st.data())
def test_damaged_record_bytes_parse_or_are_invalid(doc: dict[str, Any], cut: int, data: st.DataObject) -> None:
    raw = encode(doc)
    noise = data.draw(st.binary(max_size=8))
    assert_parses_or_is_invalid(raw[:cut] + noise + raw[cut + len(noise):])


def test_an_extra_too_deep_to_redact_or_forward_is_invalid() -> None:
    deep = b"[" * 900 + b"]" * 900
    raw = b'{"level": "ERROR", "service": "s", "message": "m", "extra": {"a": ' + deep + b"}}"
    try:
        parse_record(raw, now=NOW)
    except InvalidRecord as invalid:
        assert invalid.reason.startswith("bad_extra")
    else:
        raise AssertionError("a 900-level extra was accepted")
    within = b"[" * (MAX_EXTRA_DEPTH - 1) + b"]" * (MAX_EXTRA_DEPTH - 1)
    for level in (b"ERROR", b"INFO"):  # an INFO record's extra is checked as deeply, though the router keeps none
        assert_parses_or_is_invalid(raw.replace(b"ERROR", level))
        assert_parses_or_is_invalid(raw.replace(deep, within).replace(b"ERROR", level))
        assert parse_record(raw.replace(deep, within).replace(b"ERROR", level), now=NOW)["level"] == level.decode()


@given(NATIVE | ECS | OTEL | json_values)
def test_the_service_read_alone_is_the_one_the_full_parse_names(doc: Any) -> None:
    """The router forwards an unkeyed record by ``native_service``; its home counts it under the parse's service."""
    raw = encode(doc)
    service = native_service(raw)
    try:
        parsed = parse_record(raw, now=NOW)["service"]
    except InvalidRecord:
        return  # dead-lettered where it is parsed (its home, if forwarded: the source is in the forward)
    assert service is None or service == parsed
