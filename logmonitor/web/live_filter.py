"""What one client of a live stream asks to see: ``?service=&level=&min_level=&q=``, validated, applied per record.

``level`` is one level exactly, as everywhere in the API; ``min_level`` that level and the more severe
ones (``WARNING``: WARNING, ERROR, CRITICAL); ``q`` a plain case-insensitive substring of the message,
logger, exception type or message, as ``/api/v1/logs/errors?q=`` (never a pattern). All are optional
and combine; the feed applies them as records arrive (``web/live_feed.py``), to redacted records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from logmonitor.levels import LEVEL_RANK
from logmonitor.read.queries import mentions
from logmonitor.web.params import query_level, text_param

__all__ = ["LiveFilter"]


@dataclass(frozen=True)
class LiveFilter:
    """A client's filters; calling it with a record says whether the client wants it (never raises)."""

    service: str | None = None
    level: str | None = None
    min_level: str | None = None
    q: str | None = None  # lower case

    @classmethod
    def of(cls, query: Mapping[str, str]) -> LiveFilter:
        """The filters of a request's query.

        Raises:
            BadParameter: a level that is not one of the five, a text longer than 256 characters.
        """
        q = text_param(query, "q")
        return cls(text_param(query, "service"), query_level(query), query_level(query, "min_level"),
                   q.lower() if q else None)

    def __call__(self, record: dict[str, Any]) -> bool:
        """Whether ``record`` passes every filter that is set."""
        if self.service is not None and record.get("service") != self.service:
            return False
        level = record.get("level")
        if self.level is not None and level != self.level:
            return False
        if self.min_level is not None and (not isinstance(level, str)
                                           or LEVEL_RANK.get(level, -1) < LEVEL_RANK[self.min_level]):
            return False
        return self.q is None or mentions(record, self.q)
