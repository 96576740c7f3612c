"""The log record of DESIGN section 2: parsing raw bytes, normalising ECS and OpenTelemetry shapes.

Everything here is pure and never raises anything but :class:`InvalidRecord`, whose
``reason`` ends up in the dead-letter topic.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from msgspec import UNSET, Raw

from logmonitor.handler.breadcrumbs import MAX_BREADCRUMB_BYTES, MAX_BREADCRUMBS
from logmonitor.ingest.fields import BREADCRUMBS_ATTRIBUTE, breadcrumbs_of
from logmonitor.levels import ERROR_LEVELS, LEVEL_ALIASES, LEVELS, level_of_severity_number
from logmonitor.names import NAME_LIMIT, OTEL_ENVIRONMENT_ATTRIBUTES, OTEL_RELEASE_ATTRIBUTES
from logmonitor.pipeline.native_shape import NO_BREADCRUMBS, OPTIONAL_TEXT_LIMIT, NativeRecord, decode_native
from logmonitor.timestamps import RecordTimeError, record_time

__all__ = [
    "MAX_EXTRA_DEPTH",
    "MAX_RECORD_BYTES",
    "InvalidRecord",
    "parse_record",
]

MAX_RECORD_BYTES = 1024 * 1024
MAX_EXTRA_DEPTH = 100  # nesting of ``extra``: orjson writes at most 255 levels, and redaction recurses

_LEVEL_OF = {  # level spellings taken without further work: canonical and alias, in three cases
    spelling: canonical
    for name, canonical in [*((level, level) for level in LEVELS), *LEVEL_ALIASES.items()]
    for spelling in (name, name.lower(), name.title())
}
_OPTIONAL_TEXT = ("host", "logger", "module", "function", "request_id", "trace_id", "span_id", "user_id")
_OPTIONAL_INT = ("line", "process")
_OPTIONAL_NAMES = ("release", "environment")  # checked as the service name is, when present
_CRUMB_TIMESTAMP_LIMIT = 64


class InvalidRecord(ValueError):
    """A record the router cannot use; ``reason`` is a short machine-readable code plus detail."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _decode(raw: bytes | None) -> dict[str, Any]:
    if not raw:
        raise InvalidRecord("empty: the record has no value")
    if len(raw) > MAX_RECORD_BYTES:
        raise InvalidRecord(f"oversized: {len(raw)} bytes, the limit is {MAX_RECORD_BYTES}")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRecord("not_utf8: the record is not UTF-8 text") from None
        raise InvalidRecord(f"not_json: {error}") from None
    if not isinstance(value, dict):
        raise InvalidRecord(f"not_object: the JSON value is a {type(value).__name__}, not an object")
    return value


def _level(value: Any) -> str:
    if value.__class__ is str and value in _LEVEL_OF:
        return _LEVEL_OF[value]
    if not isinstance(value, str):
        raise InvalidRecord(f"bad_level: level must be a string, got {type(value).__name__}")
    level = value.strip().upper()
    level = LEVEL_ALIASES.get(level, level)
    if level not in LEVELS:
        raise InvalidRecord(f"bad_level: {value[:40]!r} is not one of {', '.join(LEVELS)}")
    return level


def _otel_level(number: Any) -> str:
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 24:
        raise InvalidRecord("bad_level: severityNumber must be an integer 1..24")
    return level_of_severity_number(number)


def _text(value: Any, field: str, *, required: bool = False, limit: int = 0) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        kind = "missing" if value is None or value == "" else f"a {type(value).__name__}"
        raise InvalidRecord(f"bad_{field}: {field} must be a non-empty string, got {kind}")
    if limit and len(value) > limit:
        raise InvalidRecord(f"bad_{field}: {field} is longer than {limit} characters")
    return value


def _name(value: Any, field: str) -> str | None:
    """An optional name (``release``, ``environment``): absent or null, else a non-blank string of ``NAME_LIMIT``."""
    return None if value is None else _text(value, field, required=True, limit=NAME_LIMIT)


def _message(value: Any) -> str:
    if not isinstance(value, str):
        kind = "missing" if value is None else f"a {type(value).__name__}"
        raise InvalidRecord(f"bad_message: message must be a string, got {kind}")
    return value


def _exception(value: Any) -> dict[str, str | None] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRecord("bad_exception: exception must be an object or null")
    return {
        "type": _text(value.get("type"), "exception_type", limit=512),
        "message": _text(value.get("message"), "exception_message"),
        "stacktrace": _text(value.get("stacktrace"), "stacktrace"),
    }


def _breadcrumbs(value: Any) -> list[dict[str, Any]] | None:
    """An error's breadcrumbs: null, or at most ``MAX_BREADCRUMBS`` of ``MAX_BREADCRUMB_BYTES`` as compact JSON."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidRecord("bad_breadcrumbs: breadcrumbs must be an array or null")
    if len(value) > MAX_BREADCRUMBS:
        raise InvalidRecord(f"bad_breadcrumbs: more than {MAX_BREADCRUMBS} breadcrumbs")
    crumbs = [_breadcrumb(crumb) for crumb in value]
    if len(orjson.dumps(crumbs)) > MAX_BREADCRUMB_BYTES:
        raise InvalidRecord(f"bad_breadcrumbs: breadcrumbs take more than {MAX_BREADCRUMB_BYTES} bytes")
    return crumbs


def _breadcrumb(crumb: Any) -> dict[str, Any]:
    """One breadcrumb, ``{timestamp, level, logger, message}`` (other keys are left out), its level normalised."""
    if not isinstance(crumb, dict):
        raise InvalidRecord("bad_breadcrumbs: each breadcrumb must be an object")
    timestamp, level, logger, message = (crumb.get(key) for key in ("timestamp", "level", "logger", "message"))
    if not isinstance(timestamp, str) or len(timestamp) > _CRUMB_TIMESTAMP_LIMIT:
        raise InvalidRecord(f"bad_breadcrumbs: a timestamp must be text of at most {_CRUMB_TIMESTAMP_LIMIT} characters")
    if level.__class__ is not str or level not in _LEVEL_OF:
        raise InvalidRecord(f"bad_breadcrumbs: a level must be one of {', '.join(LEVELS)}")
    if logger is not None and (not isinstance(logger, str) or len(logger) > OPTIONAL_TEXT_LIMIT):
        raise InvalidRecord(f"bad_breadcrumbs: a logger must be null or text of at most {OPTIONAL_TEXT_LIMIT} chars")
    if not isinstance(message, str):
        raise InvalidRecord("bad_breadcrumbs: a message must be text")
    return {"timestamp": timestamp, "level": _LEVEL_OF[level], "logger": logger, "message": message}


def _from_ecs(doc: dict[str, Any]) -> dict[str, Any]:
    def get(dotted: str) -> Any:
        if dotted in doc:
            return doc[dotted]
        node: Any = doc
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    error_type, error_message, stack = get("error.type"), get("error.message"), get("error.stack_trace")
    exception = None
    if error_type or error_message or stack:
        exception = {"type": error_type, "message": error_message, "stacktrace": stack}
    return {
        "id": get("event.id"), "timestamp": get("@timestamp"), "level": get("log.level"),
        "service": get("service.name"), "host": get("host.name") or get("host.hostname"),
        "logger": get("log.logger"), "message": doc.get("message"), "trace_id": get("trace.id"),
        "span_id": get("span.id"), "request_id": get("http.request.id"), "user_id": get("user.id"),
        "function": get("log.origin.function"), "line": get("log.origin.file.line"),
        "exception": exception, "release": get("service.version"), "environment": get("service.environment"),
    }


def _otel_attributes(attributes: Any) -> dict[str, Any]:
    if isinstance(attributes, dict):
        return attributes
    flat: dict[str, Any] = {}
    for item in attributes if isinstance(attributes, list) else []:
        if isinstance(item, dict) and isinstance(item.get("value"), dict):
            flat[str(item.get("key"))] = next(iter(item["value"].values()), None)
    return flat


def _object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (a producer's shape is never trusted)."""
    return value if isinstance(value, dict) else {}


def _from_otel(doc: dict[str, Any], now: float) -> dict[str, Any]:
    resource = _otel_attributes(_object(doc.get("resource")).get("attributes"))
    attributes = _otel_attributes(doc.get("attributes"))
    body = doc.get("body")
    if isinstance(body, dict):
        body = body.get("stringValue", body.get("string_value"))
    nanos = doc.get("timeUnixNano") or doc.get("observedTimeUnixNano")
    try:
        epoch = int(nanos) / 1e9 if nanos is not None else now
    except (TypeError, ValueError):
        raise InvalidRecord("bad_timestamp: timeUnixNano must be an integer") from None
    severity = doc.get("severityText")
    level = _level(severity) if severity else _otel_level(doc.get("severityNumber"))
    exception = None
    if any(k.startswith("exception.") for k in attributes):
        exception = {
            "type": attributes.get("exception.type"), "message": attributes.get("exception.message"),
            "stacktrace": attributes.get("exception.stacktrace"),
        }
    return {
        "timestamp": epoch, "level": level, "service": resource.get("service.name"),
        "host": resource.get("host.name"), "message": body, "trace_id": doc.get("traceId") or None,
        "span_id": doc.get("spanId") or None, "logger": _object(doc.get("scope")).get("name"),
        "exception": exception, "release": _first_present(resource, OTEL_RELEASE_ATTRIBUTES),
        "environment": _first_present(resource, OTEL_ENVIRONMENT_ATTRIBUTES),
        "breadcrumbs": breadcrumbs_of(attributes.get(BREADCRUMBS_ATTRIBUTE)),
    }


def _first_present(attributes: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The value of the first of ``keys`` in ``attributes``, or None."""
    return next((attributes[key] for key in keys if key in attributes), None)


def _shape(doc: dict[str, Any], now: float) -> dict[str, Any]:
    if "timeUnixNano" in doc or "severityText" in doc or "severityNumber" in doc:
        return _from_otel(doc, now)
    if "@timestamp" in doc or "log.level" in doc or isinstance(doc.get("log"), dict):
        return _from_ecs(doc)
    return doc


def parse_record(raw: bytes | None, *, fallback_id: str | None = None, now: float | None = None,
                 counted_only: bool = False) -> dict[str, Any]:
    """Parse one ``application-logs`` value into the normalised record of DESIGN section 2.

    Args:
        raw: the Kafka record value.
        fallback_id: the id to use when the producer set none (e.g. ``"<partition>-<offset>"``);
            without one, such a record's ``id`` is None.
        now: the current epoch seconds (for the timestamp sanity window).
        counted_only: a native record below ERROR comes back with only what the tables count of it (service,
            level, epoch, timestamp, host: the router keeps nothing else of it); checked in full all the same.

    Returns:
        The record, with ``timestamp`` as an ISO string and ``epoch`` as float seconds.

    Raises:
        InvalidRecord: the record is unusable; ``reason`` says why.
    """
    now = time.time() if now is None else now
    native = decode_native(raw) if raw and len(raw) <= MAX_RECORD_BYTES else None
    try:
        if native is None:
            record = _from_any_shape(raw, fallback_id, now)
            extra, extra_text = record["extra"], raw or b""
        else:  # a native record's other fields are typed flat: only its extra can nest
            doc, extra = native
            record, extra_text = _from_native(doc, extra, fallback_id, now, counted_only), doc.extra
    except RecordTimeError as error:
        raise InvalidRecord(str(error)) from None
    if len(extra_text) > 2 * MAX_EXTRA_DEPTH and _may_nest_too_deep(extra_text) and _nesting(extra) > MAX_EXTRA_DEPTH:
        raise InvalidRecord(f"bad_extra: extra nests deeper than {MAX_EXTRA_DEPTH} levels")
    return record


def _may_nest_too_deep(text: bytes | Raw) -> bool:
    """Whether the JSON ``text`` holding ``extra``, longer than two brackets a level, has the brackets to nest beyond
    the bound."""
    whole = bytes(text)
    return whole.count(b"[") + whole.count(b"{") > MAX_EXTRA_DEPTH


def _nesting(value: Any) -> int:
    """How many levels of arrays and objects ``value`` has; iterative, as deep values are what it finds."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth + 1)
            pending.extend((child, depth + 1) for child in children)
    return deepest


def _from_native(doc: NativeRecord, extra: dict[str, Any], fallback_id: str | None, now: float,
                 counted_only: bool = False) -> dict[str, Any]:
    """The record of a well-typed native document: what is left to check is values, not types."""
    level = _LEVEL_OF.get(doc.level) or _level(doc.level)
    if doc.service.isspace():
        _text(doc.service, "service", required=True)  # raises: blank
    epoch, timestamp = record_time(now if doc.timestamp is UNSET else doc.timestamp, now)
    release, environment = doc.release, doc.environment
    if release is not None and release.isspace():
        _name(release, "release")  # raises: blank
    if environment is not None and environment.isspace():
        _name(environment, "environment")  # raises: blank
    crumbs = doc.breadcrumbs
    breadcrumbs = None if crumbs is NO_BREADCRUMBS else _breadcrumbs(orjson.loads(memoryview(crumbs)))
    if counted_only and level not in ERROR_LEVELS:  # what Changes.apply_record reads: a field it comes to count too
        return {"service": doc.service, "level": level, "epoch": epoch, "timestamp": timestamp, "host": doc.host,
                "release": release}
    exception = doc.exception
    return {
        "id": doc.id or fallback_id, "level": level, "service": doc.service, "message": doc.message,
        "exception": None if exception is None else {
            "type": exception.type, "message": exception.message, "stacktrace": exception.stacktrace,
        },
        "extra": extra, "epoch": epoch, "timestamp": timestamp,
        "host": doc.host, "logger": doc.logger, "module": doc.module, "function": doc.function,
        "request_id": doc.request_id, "trace_id": doc.trace_id, "span_id": doc.span_id, "user_id": doc.user_id,
        "line": doc.line, "process": doc.process, "thread": doc.thread,
        "release": release, "environment": environment, "breadcrumbs": breadcrumbs,
    }


def _from_any_shape(raw: bytes | None, fallback_id: str | None, now: float) -> dict[str, Any]:
    """The record of any shape, checked field by field; the reason of the first problem if it is invalid."""
    doc = _shape(_decode(raw), now)
    extra = doc.get("extra", {})
    if not isinstance(extra, dict):
        raise InvalidRecord("bad_extra: extra must be an object")
    record: dict[str, Any] = {
        "id": _text(doc.get("id"), "id", limit=128) or fallback_id,
        "level": _level(doc.get("level")),
        "service": _text(doc.get("service"), "service", required=True, limit=NAME_LIMIT),
        "message": _message(doc.get("message")),
        "exception": _exception(doc.get("exception")),
        "extra": extra,
    }
    record["epoch"], record["timestamp"] = record_time(doc.get("timestamp", now), now)
    for field in _OPTIONAL_TEXT:
        record[field] = _text(doc.get(field), field, limit=OPTIONAL_TEXT_LIMIT)
    for field in _OPTIONAL_INT:
        value = doc.get(field)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidRecord(f"bad_{field}: {field} must be an integer")
        record[field] = value
    thread = doc.get("thread")
    record["thread"] = thread if isinstance(thread, (int, str)) and not isinstance(thread, bool) else None
    for field in _OPTIONAL_NAMES:
        record[field] = _name(doc.get(field), field)
    record["breadcrumbs"] = _breadcrumbs(doc.get("breadcrumbs"))
    return record
