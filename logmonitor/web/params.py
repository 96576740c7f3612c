"""Query parameters, validated: a bad value raises :class:`BadParameter` (a 400 with a JSON body)."""

from __future__ import annotations

from collections.abc import Mapping

from logmonitor.levels import LEVELS
from logmonitor.timestamps import TimeParamError, iso_timestamp, parse_time_param
from logmonitor.web.errors import BadParameter

__all__ = ["parse_time", "query_int", "query_level", "query_time", "text_param"]


def query_int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``low..high``.

    Raises:
        BadParameter: not an integer, or out of range.
    """
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be an integer, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise BadParameter(f"{name} must be between {low} and {high}, got {value}")
    return value


def query_level(query: Mapping[str, str], name: str = "level") -> str | None:
    """A level parameter (case-insensitive) or None.

    Raises:
        BadParameter: not one of the five levels.
    """
    raw = query.get(name)
    if not raw:
        return None
    if raw.upper() not in LEVELS:
        raise BadParameter(f"{name} must be one of {', '.join(LEVELS)}, got {raw[:40]!r}")
    return raw.upper()


def parse_time(raw: str, name: str) -> float:
    """Epoch seconds from ISO 8601 (``Z`` or offset; naive means UTC) or epoch seconds/milliseconds.

    Raises:
        BadParameter: not a time, or not one between 1970 and 9999.
    """
    try:
        return parse_time_param(raw, name)
    except TimeParamError as error:
        raise BadParameter(str(error)) from None


def query_time(query: Mapping[str, str], name: str) -> str | None:
    """An optional time parameter, as the ISO form records carry (for string comparison)."""
    raw = query.get(name)
    if not raw:
        return None
    return iso_timestamp(parse_time(raw, name))


def text_param(query: Mapping[str, str], name: str, limit: int = 256) -> str | None:
    """An optional free-text parameter of at most ``limit`` characters."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > limit:
        raise BadParameter(f"{name} is longer than {limit} characters")
    return raw
