"""Regular expressions that users type (Grafana's ``=~`` and ``!~`` filters), run by RE2.

Python's ``re`` backtracks: ``(.*.*)*Y`` against a 20-character service name takes minutes, on
the event loop. RE2 matches in time linear in the text and refuses what needs backtracking
(backreferences, lookaround); patterns are length-capped so that compiling them is cheap too.
"""

from __future__ import annotations

from typing import Protocol, cast

import re2  # type: ignore[import-untyped]

__all__ = ["MAX_PATTERN_LENGTH", "UserPattern", "UserPatternError", "compile_user_pattern"]

MAX_PATTERN_LENGTH = 256
_MAX_PROGRAM_BYTES = 1 << 20  # RE2's memory for one compiled pattern (default 8 MiB)


class UserPatternError(ValueError):
    """The pattern is too long, or not one RE2 accepts; the message says why."""


class UserPattern(Protocol):
    """A compiled pattern: only whole-text matching is offered."""

    def fullmatch(self, text: str) -> object | None:
        """A match object when all of ``text`` matches, else None."""


def _options() -> object:
    options = re2.Options()
    options.log_errors = False  # a user's typo is not worth a line on the worker's stderr
    options.max_mem = _MAX_PROGRAM_BYTES
    return options


_OPTIONS = _options()


def compile_user_pattern(pattern: str) -> UserPattern:
    """Compile ``pattern`` with RE2.

    Raises:
        UserPatternError: longer than :data:`MAX_PATTERN_LENGTH`, or refused by RE2.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UserPatternError(f"the regex is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        return cast(UserPattern, re2.compile(pattern, _OPTIONS))
    except re2.error as error:
        reason = error.args[0].decode(errors="replace") if error.args and isinstance(error.args[0], bytes) else error
        raise UserPatternError(f"the regex is not one RE2 accepts: {str(reason)[:100]}") from None
