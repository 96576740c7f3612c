"""Time in one place: the timestamps we write, record timestamps, and time parameters of requests.

The timestamps we write are ISO 8601 UTC with milliseconds and ``Z`` (:func:`iso_timestamp`).
Reading a time has two legitimately different rules, sharing one ISO 8601 core (``Z`` or an
offset; naive means UTC):

- :func:`record_time`: a record's ``timestamp`` (ISO 8601 text, ``z`` accepted too, or epoch
  seconds) must lie in the sanity window around now (:data:`MAX_FUTURE_SECONDS`,
  :data:`MAX_PAST_SECONDS`); timestamps as we write them take a fast path.
- :func:`parse_time_param`: a request's ``since``/``until``/Grafana ``range`` is ISO 8601, epoch
  seconds, or epoch milliseconds above ``1e11`` (seconds that large are past the year 5000), and
  must fall between 1970 and the end of 9999: earlier or later times cannot be written as the
  timestamps records carry, and arithmetic on them overflowed into 500s.

Only the standard library is imported: the handler formats its timestamps here too.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "EARLIEST", "LATEST", "MAX_FUTURE_SECONDS", "MAX_PAST_SECONDS", "RecordTimeError", "TimeParamError",
    "epoch_of", "iso_timestamp", "iso_timestamp_truncated", "parse_time_param", "record_time",
]

EARLIEST = 0.0
"""1970-01-01T00:00:00Z, the earliest time a parameter may name."""
LATEST = 253402300799.0
"""9999-12-31T23:59:59Z, the latest time a parameter may name."""
MAX_FUTURE_SECONDS = 24 * 3600
"""How far after now a record's timestamp may be."""
MAX_PAST_SECONDS = 30 * 24 * 3600
"""How far before now a record's timestamp may be."""
_MILLIS_ABOVE = 1e11
_MAX_TEXT = 64  # the longest ISO 8601 text with microseconds and offset is 32 characters

_CANONICAL_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", re.ASCII)
_SECOND_MILLIS: dict[str, int] = {}  # "2026-11-26T06:31:16." -> its epoch in milliseconds, for canonical timestamps
_SECOND_MILLIS_MAX = 4096  # over an hour of distinct seconds; cleared when full
_MILLIS = {f"{n:03d}Z": n for n in range(1000)}  # "379Z" -> 379: a canonical timestamp's end, looked up at once


class RecordTimeError(ValueError):
    """A record's timestamp is not a time or outside the sanity window; the message is the invalid-record reason."""


class TimeParamError(ValueError):
    """A time parameter is not a time, or not one between 1970 and 9999; the message names it."""


def iso_timestamp(epoch: float) -> str:
    """Format epoch seconds as ISO 8601 UTC with milliseconds and ``Z``."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_timestamp_truncated(epoch: float) -> str:
    """Like :func:`iso_timestamp`, the fraction cut to milliseconds directly (the handler formats ``created``)."""
    seconds = int(epoch)
    millis = int((epoch - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def epoch_of(timestamp: str) -> float:
    """Epoch seconds of an ISO 8601 timestamp of ours (ending in ``Z``)."""
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _aware_moment(text: str) -> datetime:
    """The moment of ISO 8601 text ending in ``Z`` or an offset, or naive (UTC); ValueError if it is not ISO 8601."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def record_time(value: Any, now: float) -> tuple[float, str]:
    """The epoch and the canonical text of a record's timestamp, which must be within the sanity window.

    Raises:
        RecordTimeError: not ISO 8601 text or epoch seconds, or outside the sanity window around ``now``.
    """
    if value.__class__ is str and (millis := _MILLIS.get(value[20:])) is not None and (
            base := _SECOND_MILLIS.get(value[:20]) or _new_second(value)) is not None:  # as we write them: nearly all
        epoch, canonical = (base + millis) / 1000, value  # the very float datetime.timestamp() gives
    else:
        epoch, canonical = _record_epoch(value), None
    if not now - MAX_PAST_SECONDS <= epoch <= now + MAX_FUTURE_SECONDS:
        epoch = _in_window(epoch, now)
    return epoch, iso_timestamp(epoch) if canonical is None else canonical


def _new_second(timestamp: str) -> int | None:
    """The epoch in milliseconds of the second of a timestamp like ``2026-11-26T06:31:16.379Z`` (as we write them),
    remembered; None for any other text."""
    if not _CANONICAL_TIMESTAMP.fullmatch(timestamp):
        return None
    try:
        moment = epoch_of(timestamp[:19] + "Z")
    except ValueError:  # shaped like ours but no time: month 13, second 60, 30 February
        return None
    if len(_SECOND_MILLIS) >= _SECOND_MILLIS_MAX:
        _SECOND_MILLIS.clear()
    base = _SECOND_MILLIS[timestamp[:20]] = int(moment) * 1000  # the key with the dot
    return base


def _record_epoch(value: Any) -> float:
    if isinstance(value, str):
        try:
            moment = _aware_moment(value.replace("z", "Z"))
        except ValueError:
            raise RecordTimeError(f"bad_timestamp: {value[:40]!r} is not ISO 8601") from None
        return moment.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise RecordTimeError("bad_timestamp: timestamp must be an ISO 8601 string")


def _in_window(epoch: float, now: float) -> float:
    if epoch > now + MAX_FUTURE_SECONDS:
        raise RecordTimeError(f"future_timestamp: {iso_timestamp(min(epoch, LATEST))} is in the future")
    if epoch < now - MAX_PAST_SECONDS:
        raise RecordTimeError(f"stale_timestamp: {iso_timestamp(max(epoch, EARLIEST))} is older than 30 days")
    return epoch


def parse_time_param(value: object, name: str) -> float:
    """Epoch seconds of a time parameter given as ISO 8601 text, or as epoch seconds or milliseconds.

    Args:
        value: the parameter as received: text (query string, JSON) or a JSON number.
        name: the parameter's name, for the error message.

    Raises:
        TimeParamError: not a time, or not between :data:`EARLIEST` and :data:`LATEST`.
    """
    if isinstance(value, str):
        epoch = _epoch_of_text(value.strip(), name)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        epoch = _epoch_of_number(value)
    else:
        raise TimeParamError(f"{name} must be ISO 8601 or epoch seconds")
    if not EARLIEST <= epoch <= LATEST:
        raise TimeParamError(f"{name} must be between 1970-01-01 and 9999-12-31, got {_shown(value)}")
    return epoch


def _epoch_of_number(number: float) -> float:
    """Seconds, or milliseconds above 1e11; NaN, infinities and integers beyond floats fall outside every bound."""
    try:
        seconds = float(number)
    except OverflowError:
        return math.nan
    return seconds / 1000 if seconds > _MILLIS_ABOVE else seconds


def _epoch_of_text(text: str, name: str) -> float:
    if len(text) > _MAX_TEXT:
        raise TimeParamError(f"{name} is longer than {_MAX_TEXT} characters")
    try:
        return _epoch_of_number(float(text))
    except ValueError:
        pass
    try:
        moment = _aware_moment(text)
    except ValueError:
        raise TimeParamError(f"{name} must be ISO 8601 or epoch seconds, got {_shown(text)}") from None
    return moment.timestamp()


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, int) and not -(10**40) < value < 10**40:
        return "a number of more than 40 digits"  # repr() refuses ints of over 4,300 digits
    return repr(value)
