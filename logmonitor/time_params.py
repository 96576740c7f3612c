"""Time parameters of requests (REST ``since``/``until``, Grafana's ``range``): one parser, bounded.

Every time a user sends is either ISO 8601 (``Z`` or an offset; naive means UTC) or epoch
seconds, or epoch milliseconds above ``1e11`` (seconds that large are past the year 5000), and
must fall between 1970 and the end of 9999: earlier or later times cannot be written as the
timestamps records carry, and arithmetic on them overflowed into 500s.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

__all__ = ["EARLIEST", "LATEST", "TimeParamError", "parse_time_param"]

EARLIEST = 0.0
"""1970-01-01T00:00:00Z, the earliest time a parameter may name."""
LATEST = 253402300799.0
"""9999-12-31T23:59:59Z, the latest time a parameter may name."""
_MILLIS_ABOVE = 1e11
_MAX_TEXT = 64  # the longest ISO 8601 text with microseconds and offset is 32 characters


class TimeParamError(ValueError):
    """A time parameter is not a time, or not one between 1970 and 9999; the message names it."""


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
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TimeParamError(f"{name} must be ISO 8601 or epoch seconds, got {_shown(text)}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, int) and not -(10**40) < value < 10**40:
        return "a number of more than 40 digits"  # repr() refuses ints of over 4,300 digits
    return repr(value)
