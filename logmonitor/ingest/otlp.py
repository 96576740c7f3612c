"""OTLP logs (``ExportLogsServiceRequest``) to records of DESIGN section 2: the mapping, and OTLP/JSON.

Protobuf bodies are read in module ``otlp_proto`` and mapped here.

The mapping of the OpenTelemetry log data model:

========================================== =====================================================
OpenTelemetry                              record
========================================== =====================================================
resource ``service.name``                  ``service`` (missing: ``unknown_service``, with
                                           ``:<process.executable.name>`` when known, as OTel does)
``severityNumber`` 1-4/5-8 (TRACE/DEBUG)   ``DEBUG``; 9-12 ``INFO``; 13-16 ``WARNING``;
                                           17-20 ``ERROR``; 21-24 ``CRITICAL``; without one the
                                           ``severityText`` (``warn``, ``Information`` ...), else ``INFO``
``body`` string / structured               ``message`` / the body as compact JSON text
``exception.type/.message/.stacktrace``    ``exception {type, message, stacktrace}``
``traceId``, ``spanId``                    ``trace_id``, ``span_id`` (hex)
``host.name``                              ``host``
``service.version``                        ``release`` (cut to 256 characters; blank: none)
``deployment.environment.name`` (or the    ``environment`` (the same)
older ``deployment.environment``)
``timeUnixNano`` (or observed, else now)   ``timestamp``
scope name                                 ``logger``
``log.record.uid``                         ``id`` (else a fresh one, or on Kafka the record's place)
``code.function.name`` / ``code.function`` ``function``; ``code.line.number`` / ``code.lineno`` ``line``;
``thread.id``; resource ``process.pid``    ``thread``; ``process``
``eventName``                              ``extra["event.name"]``
``logmonitor.breadcrumbs``                 ``breadcrumbs`` (an array of ``{timestamp, level, logger,
                                           message}`` maps, or that array as JSON text)
other attributes, resource attributes      ``extra`` (AnyValues as JSON values; bytes as base64;
                                           a record's attribute wins over its resource's)
========================================== =====================================================

Bounds: at most :data:`~logmonitor.ingest.decoded.MAX_RECORDS_PER_BODY` records a body, the first
:data:`MAX_ATTRIBUTES` attributes of a record or resource (as the OpenTelemetry SDKs' default
limit), values nested at most ``records.MAX_EXTRA_DEPTH`` deep, the router's limits on each field
and on the whole record; a JSON body's parse as ``decoded.parse_json`` bounds it, a protobuf body's
records as ``otlp_proto`` finds them. A record that cannot be mapped is rejected alone. Decoders do not redact:
the router redacts these foreign records (module ``decoded``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsPartialSuccess, ExportLogsServiceResponse
from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber

from logmonitor.ingest.decoded import (
    Decoded,
    Hold,
    Rejected,
    UndecodableBody,
    collect,
    count_bounded,
    hold_nothing,
    json_raw,
    parse_json,
)
from logmonitor.ingest.fields import (
    BREADCRUMBS_ATTRIBUTE,
    Unmappable,
    breadcrumbs_of,
    cut,
    level_named,
    pop_name,
    pop_text,
    timestamp_of_nanos,
)
from logmonitor.levels import level_of_severity_number
from logmonitor.names import OTEL_ENVIRONMENT_ATTRIBUTES, OTEL_RELEASE_ATTRIBUTES
from logmonitor.pipeline.native_shape import OPTIONAL_TEXT_LIMIT
from logmonitor.pipeline.records import MAX_EXTRA_DEPTH

__all__ = [
    "MAX_ATTRIBUTES", "Candidate", "OtlpBatch", "OtlpFields", "Place", "decode_otlp_json", "export_response",
    "json_batch",
]

MAX_ATTRIBUTES = 128
"""The attributes kept per record and per resource (the OpenTelemetry SDKs' default attribute count limit)."""
Candidate = dict[str, Any] | Rejected
"""A record's section 2 fields (``id`` only when the record names one), or why it was rejected."""

_SEVERITY_NAMES = frozenset(SeverityNumber.keys())
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1
_EXCEPTION_TYPE_LIMIT = 512  # records.py's limit on exception.type
_ID_LIMIT = 128  # records.py's limit on id
_EXCEPTION = {"type": "exception.type", "message": "exception.message", "stacktrace": "exception.stacktrace"}
_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "function": ("code.function.name", "code.function"), "user_id": ("user.id", "enduser.id")}
_INT_FIELDS: dict[str, tuple[str, ...]] = {
    "line": ("code.line.number", "code.lineno"), "thread": ("thread.id",), "process": ("process.pid",)}


class OtlpFields(NamedTuple):
    """One log record's fields, read from either encoding."""

    time_nanos: int
    observed_nanos: int
    severity_number: int
    severity_text: str
    body: Any
    attributes: dict[str, Any]
    trace_id: str | None
    span_id: str | None
    event_name: str


Place = tuple[dict[str, Any], str, Any]  # a record's resource attributes, scope name, and the record


class OtlpBatch(NamedTuple):
    """The log records of one request, found and counted (its structure checked) before any is mapped."""

    places: list[Place]
    fields: Callable[[Any], OtlpFields]  # a record's fields, from its encoding
    raw: Callable[[Any], bytes]  # a record's own bytes, for the dead-letter topic

    def candidates(self, now: float | None = None) -> Iterator[Candidate]:
        """Each record, mapped or rejected, in order (mapped one at a time, as they are asked for)."""
        now = time.time() if now is None else now
        for resource, scope, log_record in self.places:
            try:
                yield _record(resource, scope, self.fields(log_record), now)
            except Unmappable as unmappable:
                yield Rejected(unmappable.reason, self.raw(log_record))


def decode_otlp_json(body: bytes, hold: Hold = hold_nothing) -> Decoded:
    """The records of an OTLP/JSON ``ExportLogsServiceRequest``; :class:`UndecodableBody` if it is not one."""
    return collect(json_batch(_json_request(body, hold)).candidates(), hold=hold)


def export_response(rejected: int, message: str, *, proto: bool) -> bytes:
    """The ``ExportLogsServiceResponse`` body: ``partialSuccess`` when ``rejected`` > 0, protobuf or OTLP/JSON."""
    if not proto:
        partial = {"rejectedLogRecords": str(rejected), "errorMessage": message} if rejected else None
        return orjson.dumps({} if partial is None else {"partialSuccess": partial})
    response = ExportLogsServiceResponse()
    if rejected:
        response.partial_success.CopyFrom(
            ExportLogsPartialSuccess(rejected_log_records=rejected, error_message=message))
    encoded: bytes = response.SerializeToString()
    return encoded


def _json_request(body: bytes, hold: Hold) -> dict[str, Any]:
    request = parse_json(body, hold)
    if not isinstance(request, dict):
        raise UndecodableBody("bad_json: an ExportLogsServiceRequest is a JSON object")
    return request


# -- the mapping, common to both encodings ------------------------------------------------------------


def _record(resource: dict[str, Any], scope: str, fields: OtlpFields, now: float) -> dict[str, Any]:
    extra = {**resource, **fields.attributes}
    record: dict[str, Any] = {
        "id": pop_text(extra, ("log.record.uid",), _ID_LIMIT),
        "timestamp": timestamp_of_nanos(fields.time_nanos or fields.observed_nanos or int(now * 1e9), now),
        "level": _level(fields.severity_number, fields.severity_text),
        "service": _service(resource),
        "host": pop_text(extra, ("host.name",), OPTIONAL_TEXT_LIMIT),
        "logger": cut(scope, OPTIONAL_TEXT_LIMIT),
        "message": fields.body if isinstance(fields.body, str) else _json_text(fields.body),
        "trace_id": fields.trace_id, "span_id": fields.span_id,
    }
    exception = {name: _as_text(extra.pop(key, None)) for name, key in _EXCEPTION.items()}
    if any(exception.values()):
        record["exception"] = {**exception, "type": cut(exception["type"], _EXCEPTION_TYPE_LIMIT)}
    for name, keys in _TEXT_FIELDS.items():
        record[name] = pop_text(extra, keys, OPTIONAL_TEXT_LIMIT)
    for name, keys in _INT_FIELDS.items():
        record[name] = _pop_int(extra, keys)
    record["release"] = pop_name(extra, OTEL_RELEASE_ATTRIBUTES)
    record["environment"] = pop_name(extra, OTEL_ENVIRONMENT_ATTRIBUTES)
    record["breadcrumbs"] = breadcrumbs_of(extra.pop(BREADCRUMBS_ATTRIBUTE, None))
    extra.pop("service.name", None)
    if fields.event_name:
        extra["event.name"] = fields.event_name
    record["extra"] = extra
    return {name: value for name, value in record.items() if value is not None}


def _level(number: int, text: str) -> str:
    if 1 <= number <= 24:
        return level_of_severity_number(number)
    return level_named(text) or "INFO"


def _service(resource: dict[str, Any]) -> str:
    name = resource.get("service.name")
    if isinstance(name, str) and name:
        return name
    executable = resource.get("process.executable.name")
    return f"unknown_service:{executable}" if isinstance(executable, str) and executable else "unknown_service"


def _pop_int(extra: dict[str, Any], keys: Sequence[str]) -> int | None:
    """The first of ``keys`` in ``extra`` with an int64 value, taken out of ``extra``."""
    for key in keys:
        value = extra.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and _INT64[0] <= value <= _INT64[1]:
            del extra[key]
            return value
    return None


def _as_text(value: Any) -> str | None:
    """A text attribute as it is, any other value as JSON text; None for none."""
    return value if value is None or isinstance(value, str) else _json_text(value)


def _json_text(value: Any) -> str:
    return "" if value is None else orjson.dumps(value).decode()


# -- OTLP/JSON -----------------------------------------------------------------------------------------


def json_batch(request: dict[str, Any]) -> OtlpBatch:
    """The log records of an OTLP/JSON request.

    Raises:
        UndecodableBody: the request's structure (not one record) is not OTLP/JSON.
        BodyTooLarge: past the record bound.
    """
    places: list[Place] = []
    for resource_logs in _json_list(request, "resourceLogs"):
        try:
            resource = _json_attributes(_json_object(resource_logs, "resource").get("attributes"))
        except Unmappable as unmappable:
            raise UndecodableBody(f"bad_resource: {unmappable.reason}") from None
        for scope_logs in _json_list(resource_logs, "scopeLogs"):
            scope = _json_object(scope_logs, "scope").get("name")
            scope_name = scope if isinstance(scope, str) else ""
            log_records = _json_list(scope_logs, "logRecords")
            count_bounded(len(places) + len(log_records) - 1)  # before a place is made for each
            places.extend((resource, scope_name, log_record) for log_record in log_records)
    return OtlpBatch(places, _json_fields, json_raw)


def _json_list(parent: Any, name: str) -> list[Any]:
    value = parent.get(name) if isinstance(parent, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise UndecodableBody(f"bad_otlp: {name} must be an array")
    return value


def _json_object(parent: Any, name: str) -> dict[str, Any]:
    if not isinstance(parent, dict):
        raise UndecodableBody(f"bad_otlp: the parent of {name} must be an object")
    value = parent.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UndecodableBody(f"bad_otlp: {name} must be an object")
    return value


def _json_fields(log_record: Any) -> OtlpFields:
    if not isinstance(log_record, dict):
        raise Unmappable("not_object: a log record must be a JSON object")
    body = log_record.get("body")
    event_name = log_record.get("eventName", "")
    return OtlpFields(
        _json_uint64(log_record, "timeUnixNano"), _json_uint64(log_record, "observedTimeUnixNano"),
        _json_severity(log_record.get("severityNumber")), _json_text_field(log_record, "severityText"),
        None if body is None else _json_value(body, 0), _json_attributes(log_record.get("attributes")),
        _json_hex(log_record, "traceId"), _json_hex(log_record, "spanId"),
        event_name if isinstance(event_name, str) else "")


def _json_uint64(log_record: dict[str, Any], name: str) -> int:
    value = log_record.get(name, 0)
    number = _json_integer(value)
    if number is None or not 0 <= number <= _UINT64_MAX:
        raise Unmappable(f"bad_timestamp: {name} must be an unsigned 64-bit integer (a number or decimal text)")
    return number


def _json_integer(value: Any) -> int | None:
    """An integer given as a JSON number or decimal text (OTLP/JSON writes 64-bit integers either way)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and 0 < len(value) <= 21 and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    return None


def _json_severity(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str) and value in _SEVERITY_NAMES:  # protobuf's JSON mapping: the enum's name
        return int(SeverityNumber.Value(value))
    number = _json_integer(value)
    return number if number is not None and 0 <= number <= 24 else 0


def _json_text_field(log_record: dict[str, Any], name: str) -> str:
    value = log_record.get(name, "")
    if not isinstance(value, str):
        raise Unmappable(f"bad_{name}: {name} must be a string")
    return value


def _json_hex(log_record: dict[str, Any], name: str) -> str | None:
    value = log_record.get(name)
    if value is None or (isinstance(value, str) and not value.strip("0")):  # none, or OpenTelemetry's invalid id
        return None
    if not isinstance(value, str) or len(value) > 64 or not value.isascii() or not _is_hex(value):
        raise Unmappable(f"bad_{name}: {name} must be hex text (OTLP/JSON), at most 32 bytes")
    return value.lower()


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def _json_attributes(attributes: Any) -> dict[str, Any]:
    if attributes is None:
        return {}
    if not isinstance(attributes, list):
        raise Unmappable("bad_attributes: attributes must be an array of {key, value}")
    flat: dict[str, Any] = {}
    for pair in attributes[:MAX_ATTRIBUTES]:
        if not isinstance(pair, dict) or not isinstance(pair.get("key"), str):
            raise Unmappable("bad_attributes: each attribute must be an object with a string key")
        flat[pair["key"]] = _json_value(pair.get("value"), 0)
    return flat


def _json_value(value: Any, depth: int) -> Any:
    """An OTLP/JSON ``AnyValue`` as a plain JSON value."""
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise Unmappable("bad_value: an AnyValue must be a JSON object")
    if "stringValue" in value:
        return _typed(value["stringValue"], str, "stringValue")
    if "boolValue" in value:
        return _typed(value["boolValue"], bool, "boolValue")
    if "intValue" in value:
        number = _json_integer(value["intValue"])
        if number is None or not _INT64[0] <= number <= _INT64[1]:
            raise Unmappable("bad_value: intValue must be a 64-bit integer")
        return number
    if "doubleValue" in value:
        return _json_double(value["doubleValue"])
    if "bytesValue" in value:
        return _typed(value["bytesValue"], str, "bytesValue")
    if depth >= MAX_EXTRA_DEPTH:
        raise Unmappable(f"bad_extra: a value nests deeper than {MAX_EXTRA_DEPTH} levels")
    if "arrayValue" in value:
        return [_json_value(item, depth + 1) for item in _values(value["arrayValue"])]
    if "kvlistValue" in value:
        pairs = _values(value["kvlistValue"])
        if not all(isinstance(pair, dict) and isinstance(pair.get("key"), str) for pair in pairs):
            raise Unmappable("bad_value: each kvlistValue entry must be an object with a string key")
        return {pair["key"]: _json_value(pair.get("value"), depth + 1) for pair in pairs}
    return None  # a kind this version of OTLP does not know: no value


def _typed(value: Any, kind: type, name: str) -> Any:
    if not isinstance(value, kind):
        raise Unmappable(f"bad_value: {name} must be a {kind.__name__}")
    return value


def _json_double(value: Any) -> float | None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number and value not in ("NaN", "Infinity", "-Infinity"):  # protobuf's JSON mapping writes these
        raise Unmappable("bad_value: doubleValue must be a number")
    double = float(value)
    return double if math.isfinite(double) else None  # no NaN or Infinity in our JSON (DESIGN section 5)


def _values(container: Any) -> list[Any]:
    values = container.get("values", []) if isinstance(container, dict) else None
    if not isinstance(values, list):
        raise Unmappable("bad_value: arrayValue and kvlistValue hold a values array")
    return values
