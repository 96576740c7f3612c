"""OTLP logs in protobuf: ``ExportLogsServiceRequest`` bodies and Kafka batches, read from the wire.

The mapping to records is module ``otlp``'s, shared with OTLP/JSON; here the records are found on
the wire (``wire_count``), counted to the bound before any is built, and each is parsed alone when
it is mapped.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from logmonitor.ingest.decoded import (
    BodyTooLarge,
    Decoded,
    Hold,
    UndecodableBody,
    collect,
    count_bounded,
    hold_nothing,
)
from logmonitor.ingest.fields import Unmappable
from logmonitor.ingest.otlp import MAX_ATTRIBUTES, OtlpBatch, OtlpFields, Place
from logmonitor.ingest.wire_count import MalformedWire, length_delimited
from logmonitor.pipeline.records import MAX_EXTRA_DEPTH, MAX_RECORD_BYTES

__all__ = ["decode_otlp_proto", "proto_batch"]

# Field numbers: ExportLogsServiceRequest.resource_logs; ResourceLogs.resource, .scope_logs; ScopeLogs.scope,
# .log_records
_RESOURCE_LOGS, _RESOURCE, _SCOPE_LOGS, _SCOPE, _LOG_RECORDS = 1, 1, 2, 1, 2
# A record parsed is at most this much protobuf. Twice the router's record limit: a record of many
# attributes is over it on the wire and under it mapped (the first MAX_ATTRIBUTES are kept).
_MAX_RECORD_WIRE = 2 * MAX_RECORD_BYTES


def decode_otlp_proto(body: bytes, hold: Hold = hold_nothing) -> Decoded:
    """The records of a protobuf ``ExportLogsServiceRequest``; :class:`UndecodableBody` if it is not one."""
    return collect(proto_batch(body).candidates(), hold=hold)


def proto_batch(body: bytes) -> OtlpBatch:
    """The log records of a protobuf ``ExportLogsServiceRequest``, found on the wire before any is built.

    Each record is kept as its bytes and parsed only when it is mapped, alone: a parser builds an
    object for every field a message declares (two bytes make an empty attribute), so parsing the
    whole request at once let 18 MB of declared nothing take gigabytes. Now a body costs the
    record bound's work to refuse, and a record at most its own bytes (over twice
    ``MAX_RECORD_BYTES`` it is rejected unparsed: the router would refuse it); resources and scopes
    must be under ``MAX_RECORD_BYTES``.

    Raises:
        BodyTooLarge: more records than ``decoded.MAX_RECORDS_PER_BODY``, or a resource or scope over
            ``MAX_RECORD_BYTES`` (found with work bounded by the record bound).
        UndecodableBody: not protobuf, or a resource or scope that does not parse.
    """
    places: list[Place] = []
    view = memoryview(body)
    try:
        for number, start, end in length_delimited(body):
            if number != _RESOURCE_LOGS:
                continue
            resource: dict[str, Any] = {}
            for inner, inner_start, inner_end in length_delimited(body, start, end):
                if inner == _RESOURCE:
                    resource = _proto_attributes(_parsed(Resource, view[inner_start:inner_end]).attributes)
                elif inner == _SCOPE_LOGS:
                    places.extend(_scope_places(body, view, inner_start, inner_end, resource, len(places)))
    except MalformedWire as malformed:
        raise UndecodableBody(f"bad_protobuf: not an ExportLogsServiceRequest ({malformed})") from None
    return OtlpBatch(places, _proto_fields, bytes)


def _scope_places(body: bytes, view: memoryview, start: int, end: int, resource: dict[str, Any], before: int
                  ) -> list[Place]:
    """The places of one ``ScopeLogs``' records (``before`` records came first: the bound counts them all)."""
    scope, records = "", list[memoryview]()
    for number, value_start, value_end in length_delimited(body, start, end):
        if number == _SCOPE:
            scope = _parsed(InstrumentationScope, view[value_start:value_end]).name
        elif number == _LOG_RECORDS:
            count_bounded(before + len(records))
            records.append(view[value_start:value_end])
    return [(resource, scope, record) for record in records]


def _parsed(message: Any, raw: memoryview) -> Any:
    """A resource or scope parsed from its bytes; refused past ``MAX_RECORD_BYTES`` (it is copied into each record)."""
    if len(raw) > MAX_RECORD_BYTES:
        raise BodyTooLarge(f"too_large: a resource or scope takes more than {MAX_RECORD_BYTES} bytes")
    try:
        return message.FromString(bytes(raw))
    except (DecodeError, RecursionError) as error:
        raise UndecodableBody(f"bad_protobuf: not an ExportLogsServiceRequest ({error})") from None


def _proto_fields(raw: memoryview) -> OtlpFields:
    if len(raw) > _MAX_RECORD_WIRE:
        raise Unmappable(f"oversized: the log record takes more than {_MAX_RECORD_WIRE} bytes of protobuf")
    try:
        log_record = LogRecord.FromString(bytes(raw))
    except (DecodeError, RecursionError) as error:
        raise Unmappable(f"bad_protobuf: not a LogRecord ({error})") from None
    return OtlpFields(
        log_record.time_unix_nano, log_record.observed_time_unix_nano, log_record.severity_number,
        log_record.severity_text, _proto_value(log_record.body, 0) if log_record.HasField("body") else None,
        _proto_attributes(log_record.attributes), _proto_id(log_record.trace_id), _proto_id(log_record.span_id),
        log_record.event_name)


def _proto_id(raw: bytes) -> str | None:
    """A trace or span id as hex; None for none (empty, or all zeros: OpenTelemetry's invalid id)."""
    return raw.hex() if raw.strip(b"\0") else None


def _proto_attributes(attributes: Sequence[KeyValue]) -> dict[str, Any]:
    return {pair.key: _proto_value(pair.value, 0) for pair in attributes[:MAX_ATTRIBUTES]}


def _proto_value(value: AnyValue, depth: int) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value" or kind == "kvlist_value":
        if depth >= MAX_EXTRA_DEPTH:  # not reached: protobuf parses at most 100 nested messages
            raise Unmappable(f"bad_extra: a value nests deeper than {MAX_EXTRA_DEPTH} levels")
        if kind == "array_value":
            return [_proto_value(item, depth + 1) for item in value.array_value.values]
        return {pair.key: _proto_value(pair.value, depth + 1) for pair in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)
