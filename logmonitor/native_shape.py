"""The native record shape (DESIGN section 2) as a msgspec type: decoded and type-checked in one C pass.

Nearly every record a router sees is native and well formed; decoding it into
:class:`NativeRecord` checks every field's type and length while parsing, at a third of the
cost of ``orjson.loads`` plus the same checks in Python (``bench/pipeline``, P2). Anything
else (ECS, OpenTelemetry, an invalid record) fails here and takes ``records.py``'s general
path, which gives the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

__all__ = ["OPTIONAL_TEXT_LIMIT", "NativeException", "NativeRecord", "decode_native"]

OPTIONAL_TEXT_LIMIT = 1024
_Text = Annotated[str, Meta(max_length=OPTIONAL_TEXT_LIMIT)]


class NativeException(msgspec.Struct):
    """The ``exception`` object."""

    type: Annotated[str, Meta(max_length=512)] | None = None
    message: str | None = None
    stacktrace: str | None = None


class NativeRecord(msgspec.Struct):
    """A native record whose fields all have the right types; ``other_shape`` says it is not native after all."""

    level: str
    service: Annotated[str, Meta(min_length=1, max_length=256)]
    message: str
    id: Annotated[str, Meta(max_length=128)] | None = None
    timestamp: str | float | UnsetType = UNSET
    exception: NativeException | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    host: _Text | None = None
    logger: _Text | None = None
    module: _Text | None = None
    function: _Text | None = None
    request_id: _Text | None = None
    trace_id: _Text | None = None
    span_id: _Text | None = None
    user_id: _Text | None = None
    line: int | None = None
    process: int | None = None
    thread: int | str | None = None
    # The marks of the OpenTelemetry and ECS shapes (records.py's _shape).
    time_unix_nano: Any = msgspec.field(default=UNSET, name="timeUnixNano")
    severity_text: Any = msgspec.field(default=UNSET, name="severityText")
    severity_number: Any = msgspec.field(default=UNSET, name="severityNumber")
    ecs_timestamp: Any = msgspec.field(default=UNSET, name="@timestamp")
    ecs_level: Any = msgspec.field(default=UNSET, name="log.level")
    log: Any = UNSET

    @property
    def other_shape(self) -> bool:
        """Whether the document carries a mark of the OpenTelemetry or ECS shape."""
        return (self.time_unix_nano is not UNSET or self.severity_text is not UNSET
                or self.severity_number is not UNSET or self.ecs_timestamp is not UNSET
                or self.ecs_level is not UNSET or isinstance(self.log, dict))


_DECODER = msgspec.json.Decoder(NativeRecord)


def decode_native(raw: bytes) -> NativeRecord | None:
    """The record if ``raw`` is a well-typed native record, else None."""
    try:
        record = _DECODER.decode(raw)
    except msgspec.DecodeError:
        return None
    return None if record.other_shape else record
