"""Pieces of a record every ingest format maps alike: the level of a severity name, bounded text, nanosecond times."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from logmonitor.handler.breadcrumbs import MAX_BREADCRUMB_BYTES
from logmonitor.levels import LEVEL_ALIASES, LEVELS
from logmonitor.names import NAME_LIMIT, usable_name
from logmonitor.timestamps import RecordTimeError, record_time

__all__ = [
    "BREADCRUMBS_ATTRIBUTE", "Unmappable", "breadcrumbs_of", "cut", "level_named", "pop_name", "pop_text",
    "timestamp_of_nanos",
]

BREADCRUMBS_ATTRIBUTE = "logmonitor.breadcrumbs"
"""The OpenTelemetry log record attribute that carries a record's breadcrumbs (DESIGN section 2)."""
_LEVEL_OF = {**{level: level for level in LEVELS}, **LEVEL_ALIASES}
_BREADCRUMBS_TEXT_LIMIT = 4 * MAX_BREADCRUMB_BYTES  # longer JSON text is not parsed: the router refuses it as text
_LONGEST_LEVEL = max(map(len, _LEVEL_OF))


class Unmappable(ValueError):
    """One record cannot be mapped to section 2; ``reason`` as ``records.InvalidRecord.reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def level_named(name: Any) -> str | None:
    """The level a severity name means (``warn``, ``Information``, ``TRACE`` ...), or None for no known name."""
    if not isinstance(name, str) or len(name) > _LONGEST_LEVEL + 8:  # cut before upper(): names are short
        return None
    return _LEVEL_OF.get(name.strip().upper())


def cut(text: Any, limit: int) -> str | None:
    """``text`` if it is a non-empty string, at most ``limit`` characters of it; else None."""
    return text[:limit] if isinstance(text, str) and text else None


def pop_text(extra: dict[str, Any], keys: Sequence[str], limit: int) -> str | None:
    """The first of ``keys`` in ``extra`` with a text value (cut to ``limit``), taken out of ``extra``; else None."""
    for key in keys:
        if isinstance(extra.get(key), str):
            return cut(extra.pop(key), limit)
    return None


def pop_name(extra: dict[str, Any], keys: Sequence[str]) -> str | None:
    """The first of ``keys`` in ``extra`` with a name (text, cut to ``NAME_LIMIT``, not blank), taken out; else None.

    Values that are no name (blank, or not text) stay in ``extra``.
    """
    for key in keys:
        value = extra.get(key)
        if isinstance(value, str) and (name := usable_name(value[:NAME_LIMIT])) is not None:
            del extra[key]
            return name
    return None


def breadcrumbs_of(value: Any) -> Any:
    """The breadcrumbs an attribute value carries: an array of ``{timestamp, level, logger, message}`` maps, or
    that array as JSON text (parsed here, up to four times the breadcrumbs' byte bound); the router checks them."""
    if isinstance(value, str) and len(value) <= _BREADCRUMBS_TEXT_LIMIT:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def timestamp_of_nanos(nanos: int, now: float) -> str:
    """The section 2 timestamp of nanoseconds since the epoch; :class:`Unmappable` outside the sanity window."""
    try:
        return record_time(nanos / 1e9, now)[1]
    except RecordTimeError as error:
        raise Unmappable(str(error)) from None
