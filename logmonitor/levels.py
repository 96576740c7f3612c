"""The log levels of DESIGN section 2, in one place for both sides.

The handler imports this module too, so it imports nothing but the standard library (the
handler is installed without the server's dependencies).
"""

from __future__ import annotations

import logging

__all__ = ["ERROR_LEVELS", "LEVELS", "LEVEL_ALIASES", "LEVEL_RANK", "level_name", "level_of_severity_number"]

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
"""The levels a record may carry, least severe first."""
ERROR_LEVELS = frozenset({"ERROR", "CRITICAL"})
"""The levels that make a record an error: forwarded to the errors topic, grouped, counted as errors."""
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
"""Each level's severity, 0 for DEBUG; stored in the handler's spool, so the numbers never change."""
LEVEL_ALIASES = {
    "WARN": "WARNING", "FATAL": "CRITICAL", "TRACE": "DEBUG", "ERR": "ERROR",
    "NOTICE": "INFO", "ALERT": "CRITICAL", "EMERGENCY": "CRITICAL", "EMERG": "CRITICAL",
    "CRIT": "CRITICAL", "SEVERE": "ERROR", "INFORMATION": "INFO",
}
"""Other spellings of the levels (upper case) seen in other loggers' records, and the level each means."""
# OpenTelemetry severities TRACE, DEBUG, INFO, WARN, ERROR, FATAL, four numbers each:
_BY_SEVERITY_NUMBER = ("DEBUG", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def level_name(levelno: int) -> str:
    """The level for any numeric ``logging`` level (custom levels round down)."""
    if levelno >= logging.CRITICAL:
        return "CRITICAL"
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARNING"
    return "INFO" if levelno >= logging.INFO else "DEBUG"


def level_of_severity_number(number: int) -> str:
    """The level for an OpenTelemetry ``severityNumber`` 1..24 (four numbers per OpenTelemetry severity)."""
    return _BY_SEVERITY_NUMBER[(number - 1) // 4]
