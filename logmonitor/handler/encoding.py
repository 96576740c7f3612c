"""Turns a ``logging.LogRecord`` into the wire record of DESIGN section 2 (JSON bytes)."""

from __future__ import annotations

import logging
import os
import traceback
from dataclasses import dataclass
from typing import Any

import orjson

from logmonitor.handler.breadcrumbs import DEFAULT_BREADCRUMB_BYTES, Crumb, WrittenCrumbs
from logmonitor.handler.context import CONTEXT_FIELDS
from logmonitor.handler.redaction import Redactor
from logmonitor.levels import level_name
from logmonitor.timestamps import iso_timestamp_truncated

__all__ = ["Captured", "RecordEncoder"]

_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


@dataclass(slots=True)
class Captured:
    """What ``emit()`` takes on the caller's thread; the rest is done on the sender thread."""

    record: logging.LogRecord
    message: str
    context: tuple[str | None, ...]
    breadcrumbs: tuple[Crumb, ...] = ()  # an error's: the records of its context before it, oldest first


def _json_safe(value: Any) -> Any:
    """``value`` if orjson can encode it as-is, else its ``repr``."""
    try:
        orjson.dumps(value)
    except TypeError:
        return repr(value)
    return value


class RecordEncoder:
    """Builds, redacts and serializes records for one service."""

    def __init__(self, service: str, host: str, redactor: Redactor, release: str | None = None,
                 environment: str | None = None, breadcrumb_bytes: int = DEFAULT_BREADCRUMB_BYTES) -> None:
        self.service = service
        self.host = host
        self.redactor = redactor
        self.breadcrumb_bytes = breadcrumb_bytes
        self._breadcrumbs = WrittenCrumbs(redactor)
        self._deployment = {name: value for name, value in (("release", release), ("environment", environment))
                            if value is not None}  # absent rather than null: records without them stay as they were

    def encode(self, captured: Captured) -> bytes:
        """The record's JSON value for ``application-logs``."""
        record = captured.record
        extra: dict[str, Any] = {}
        context = dict(zip(CONTEXT_FIELDS, captured.context, strict=True))
        for key, value in record.__dict__.items():
            if key in _STANDARD_ATTRIBUTES:
                continue
            if key in context:
                context[key] = None if value is None else str(value)
            else:
                extra[key] = _json_safe(value)
        document: dict[str, Any] = {
            "id": os.urandom(16).hex(),
            "timestamp": iso_timestamp_truncated(record.created),
            "level": level_name(record.levelno),
            "service": self.service,
            "host": self.host,
            "logger": record.name,
            "message": captured.message,
            "module": record.module,
            "function": record.funcName,
            "line": record.lineno,
            "process": record.process,
            "thread": record.threadName,
            **context,
            **self._deployment,
            "exception": self._exception(record),
            "extra": extra,
        }
        self.redactor.record(document)  # cut first, then redacted
        if captured.breadcrumbs:  # redacted (once each) and bounded as they are sent
            kept = self._breadcrumbs.within(captured.breadcrumbs, self.breadcrumb_bytes)
            if kept:
                document["breadcrumbs"] = kept
        return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)

    @staticmethod
    def _exception(record: logging.LogRecord) -> dict[str, str] | None:
        if not record.exc_info or record.exc_info[0] is None:
            return None
        kind, error, tb = record.exc_info
        stacktrace = "".join(traceback.format_exception(kind, error, tb))
        return {
            "type": kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}",
            "message": str(error),
            "stacktrace": stacktrace,
        }
