"""Properties of the decoders on generated input: records the router takes, rejections or UndecodableBody."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import cramjam
from hypothesis import given
from hypothesis import strategies as st

from logmonitor.ingest.decoded import Decoded, Rejected, UndecodableBody
from logmonitor.ingest.kafka_batches import records_of
from logmonitor.ingest.loki import decode_loki_json, decode_loki_proto
from logmonitor.ingest.ndjson import decode_ndjson
from logmonitor.ingest.otlp import decode_otlp_json
from logmonitor.ingest.otlp_proto import decode_otlp_proto
from logmonitor.ingest.settings import LokiLabels
from logmonitor.pipeline.records import parse_record
from tests.unit.test_records_properties import encode, json_values

NOW_NANOS = time.time_ns()
SERVICE_LABELS = LokiLabels(service=("service_name", "app"))

integers = st.integers(min_value=-(2**65), max_value=2**65)
int64_text = integers.map(str) | st.sampled_from(["", "12a", "1e3", "-0", "٣"])
any_values = st.deferred(lambda: st.fixed_dictionaries({}, optional={
    "stringValue": st.text(max_size=10) | json_values, "boolValue": st.booleans() | json_values,
    "intValue": integers | int64_text, "doubleValue": st.floats() | st.sampled_from(["NaN", "Infinity", "x"]),
    "bytesValue": st.text(max_size=8),
    "arrayValue": st.fixed_dictionaries({"values": st.lists(any_values, max_size=3)}),
    "kvlistValue": st.fixed_dictionaries({"values": st.lists(key_values, max_size=3)})}) | json_values)
key_values = st.fixed_dictionaries({"key": st.text(max_size=8) | json_values}, optional={"value": any_values})
attribute_lists = st.lists(key_values, max_size=4) | json_values
times = st.sampled_from([NOW_NANOS, str(NOW_NANOS), 0, "0", 2**64, -1]) | int64_text | json_values
log_records = st.fixed_dictionaries({}, optional={
    "timeUnixNano": times, "observedTimeUnixNano": times,
    "severityNumber": st.integers(min_value=-3, max_value=30) | st.sampled_from(["SEVERITY_NUMBER_WARN", "x"]),
    "severityText": st.sampled_from(["warn", "bogus", ""]) | json_values, "body": any_values,
    "attributes": attribute_lists, "traceId": st.sampled_from(["ab" * 16, "zz", "", "0" * 32]) | json_values,
    "spanId": st.text(max_size=20), "eventName": st.text(max_size=5) | json_values}) | json_values
requests = st.fixed_dictionaries({"resourceLogs": st.lists(st.fixed_dictionaries({}, optional={
    "resource": st.fixed_dictionaries({}, optional={"attributes": attribute_lists}) | json_values,
    "scopeLogs": st.lists(st.fixed_dictionaries({}, optional={
        "scope": st.fixed_dictionaries({}, optional={"name": st.text(max_size=5) | json_values}),
        "logRecords": st.lists(log_records, max_size=3) | json_values}), max_size=2) | json_values}),
    max_size=2) | json_values}) | json_values


def assert_decodes_or_is_undecodable(decode: Callable[[bytes], Decoded], body: bytes) -> None:
    """The decoders' whole contract: UndecodableBody, or records the router parses under their key, and rejections."""
    try:
        result = decode(body)
    except UndecodableBody as undecodable:
        assert undecodable.reason.split(":", 1)[0].isidentifier()
        return
    for key, value in result.records:
        assert parse_record(value)["service"] == key
    for rejected in result.rejected:
        assert rejected.reason.split(":", 1)[0].isidentifier() and isinstance(rejected.raw, bytes)


@given(requests)
def test_otlp_json_requests_decode_or_are_undecodable(request: Any) -> None:
    assert_decodes_or_is_undecodable(decode_otlp_json, encode(request))


@given(st.binary(max_size=300))
def test_any_bytes_decode_or_are_undecodable(body: bytes) -> None:
    for decode in (decode_otlp_json, decode_otlp_proto, decode_ndjson,
                   lambda b: decode_loki_json(b, SERVICE_LABELS), lambda b: decode_loki_proto(b, SERVICE_LABELS, 10**5),
                   lambda b: decode_loki_proto(bytes(cramjam.snappy.compress_raw(b)), SERVICE_LABELS, 10**5)):
        assert_decodes_or_is_undecodable(decode, body)


loki_pushes = st.fixed_dictionaries({"streams": st.lists(st.fixed_dictionaries({}, optional={
    "stream": st.dictionaries(st.sampled_from(["app", "level", "x"]), st.text(max_size=5) | json_values),
    "values": st.lists(st.lists(times | st.text(max_size=8) | json_values, max_size=4), max_size=3) | json_values}),
    max_size=3) | json_values}) | json_values


@given(loki_pushes)
def test_loki_json_pushes_decode_or_are_undecodable(push: Any) -> None:
    assert_decodes_or_is_undecodable(lambda body: decode_loki_json(body, SERVICE_LABELS), encode(push))


@given(requests)
def test_a_kafka_message_gives_records_with_their_index_or_itself(request: Any) -> None:
    value = encode(request)
    for index, record in records_of(value, time.time()):
        if index is None:  # the message itself, or the whole batch rejected
            assert record == value or (isinstance(record, Rejected) and record.raw == value)
        else:
            assert isinstance(record, (bytes, Rejected))
