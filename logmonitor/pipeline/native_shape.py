"""The native record shape (DESIGN section 2) as a msgspec type: decoded and type-checked in one C pass.

Nearly every record a router sees is native and well formed; decoding it into
:class:`NativeRecord` checks every field's type and length while parsing, at a third of the
cost of ``orjson.loads`` plus the same checks in Python (``bench/pipeline``, P2). The type is
strict on purpose, so that what it accepts the general path (``records.py``) would accept with
the same result: unknown fields (and so the ECS and OpenTelemetry shapes), integers orjson would
read as floats, and anything malformed take the general path, which gives the reason. ``extra``
is read by orjson itself, as the general path reads it.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import orjson
from msgspec import UNSET, Meta, UnsetType

from logmonitor.names import NAME_LIMIT

__all__ = [
    "NO_BREADCRUMBS", "OPTIONAL_TEXT_LIMIT", "NativeException", "NativeRecord", "decode_native", "native_service",
]

OPTIONAL_TEXT_LIMIT = 1024
_Text = Annotated[str, Meta(max_length=OPTIONAL_TEXT_LIMIT)]
_Name = Annotated[str, Meta(min_length=1, max_length=NAME_LIMIT)]
_Int = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]  # orjson reads larger ones as floats (or uint64)
NO_BREADCRUMBS = msgspec.Raw(b"null")
"""The ``breadcrumbs`` of a record without them (the very object: records without them pay nothing more)."""


class NativeException(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The ``exception`` object."""

    type: Annotated[str, Meta(max_length=512)] | None = None
    message: str | None = None
    stacktrace: str | None = None


class NativeRecord(msgspec.Struct, forbid_unknown_fields=True, gc=False, kw_only=True):
    """A native record with exactly the fields of DESIGN section 2, each of the right type.

    The fields are in the order KafkaLogHandler writes them (``handler/encoding.py``): msgspec matches
    a key to the field after the previous one first (11 % of the decode's instructions, callgrind).
    """

    id: Annotated[str, Meta(max_length=128)] | None = None
    timestamp: str | _Int | float | UnsetType = UNSET
    level: str
    service: _Name
    host: _Text | None = None
    logger: _Text | None = None
    message: str
    module: _Text | None = None
    function: _Text | None = None
    line: _Int | None = None
    process: _Int | None = None
    thread: _Int | str | None = None
    request_id: _Text | None = None
    trace_id: _Text | None = None
    span_id: _Text | None = None
    user_id: _Text | None = None
    release: _Name | None = None
    environment: _Name | None = None
    exception: NativeException | None = None
    extra: msgspec.Raw = msgspec.Raw(b"{}")
    breadcrumbs: msgspec.Raw = NO_BREADCRUMBS  # checked as the general path checks them, only when present


_DECODER = msgspec.json.Decoder(NativeRecord)


def decode_native(raw: bytes) -> tuple[NativeRecord, dict[str, Any]] | None:
    """The record and its ``extra`` if ``raw`` is a well-typed native record, else None."""
    try:
        record = _DECODER.decode(raw)
        extra = orjson.loads(memoryview(record.extra))
    except (msgspec.DecodeError, ValueError, RecursionError):  # ValueError: not UTF-8, or orjson's
        return None
    return (record, extra) if isinstance(extra, dict) else None


_Marker = msgspec.Raw | UnsetType


class _Addressed(msgspec.Struct, gc=False):
    """A record's service, and the fields that would make it an OpenTelemetry or ECS record (``records._shape``)."""

    service: _Name
    time_unix_nano: _Marker = msgspec.field(default=UNSET, name="timeUnixNano")
    severity_text: _Marker = msgspec.field(default=UNSET, name="severityText")
    severity_number: _Marker = msgspec.field(default=UNSET, name="severityNumber")
    at_timestamp: _Marker = msgspec.field(default=UNSET, name="@timestamp")
    log_level: _Marker = msgspec.field(default=UNSET, name="log.level")
    log: _Marker = UNSET


_ADDRESS_DECODER = msgspec.json.Decoder(_Addressed)


def native_service(raw: bytes) -> str | None:
    """The service of a record in the native shape, read without the rest of it; None if it is not plainly one.

    What the full parse would name the record's service if it accepts it (``records.py``): the
    ``service`` string (1 to 256 characters, not blank) of an object with none of the other shapes'
    fields. Anything else (another shape, no such service, not an object, not JSON) is None, and left
    to the full parse. At a sixth of its cost (0.5 us against 4 us for the bench's records).
    """
    try:
        addressed = _ADDRESS_DECODER.decode(raw)
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None
    if any(marker is not UNSET for marker in (addressed.time_unix_nano, addressed.severity_text,
                                               addressed.severity_number, addressed.at_timestamp,
                                               addressed.log_level, addressed.log)):
        return None
    return None if addressed.service.isspace() else addressed.service
