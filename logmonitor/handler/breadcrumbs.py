"""Breadcrumbs: the latest records of the current context, shipped with each error (DESIGN section 2).

A context is the innermost active ``log_context`` block (shared by everything that runs inside
it, the tasks it starts included; a block starts with the breadcrumbs of the block around it, as
Sentry's scopes do), else the asyncio task, else the thread. Its trail lives in a context
variable, so it goes when its block ends or its task or thread is gone: nothing to clean up.

Bounds: a trail holds the newest :func:`capacity` records (the largest ``breadcrumbs`` count of
the process's handlers), each message cut to ``MESSAGE_CHARS`` and each logger name to
``LOGGER_CHARS`` when it is taken (before redaction, which happens on the sender thread); at most
``MAX_TRAILS`` trails are alive at once (more contexts get no breadcrumbs, said once on stderr).
What an error carries is redacted, then cut to the handler's byte bound, oldest first
(:class:`WrittenCrumbs`, on the sender thread).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

import orjson

from logmonitor.handler.redaction import Redactor
from logmonitor.levels import level_name
from logmonitor.timestamps import iso_timestamp_truncated

__all__ = [
    "DEFAULT_BREADCRUMBS", "DEFAULT_BREADCRUMB_BYTES", "LOGGER_CHARS", "MAX_BREADCRUMBS", "MAX_BREADCRUMB_BYTES",
    "MAX_TRAILS", "MESSAGE_CHARS", "WRITTEN_KEPT", "Crumb", "Trail", "WrittenCrumbs", "block", "current_trail",
    "reserve",
]

DEFAULT_BREADCRUMBS = 30
DEFAULT_BREADCRUMB_BYTES = 16 * 1024
MAX_BREADCRUMBS = 100
"""The most breadcrumbs a record may carry; the router dead-letters a record with more (``records.py``)."""
MAX_BREADCRUMB_BYTES = 64 * 1024
"""The most bytes a record's breadcrumbs may take as compact JSON; the router dead-letters a record with more."""
MESSAGE_CHARS = 1024
LOGGER_CHARS = 256
MAX_TRAILS = 10_000
WRITTEN_KEPT = 4 * MAX_BREADCRUMBS

_capacity = 0  # the largest count the handlers of this process keep; 0: no handler keeps breadcrumbs
_live: weakref.WeakSet[Trail] = weakref.WeakSet()
_refused = [False]  # whether a context was refused a trail (said once)


class Crumb(NamedTuple):
    """One record as a breadcrumb, as it was taken on the caller's thread."""

    created: float
    levelno: int
    logger: str
    message: str


class Trail:
    """One context's newest records; ``owner`` is its task's or thread's id, None for a ``log_context`` block's."""

    __slots__ = ("__weakref__", "crumbs", "last", "owner")

    def __init__(self, owner: int | None, seed: Iterable[Crumb] = ()) -> None:
        self.crumbs: deque[Crumb] = deque(seed, maxlen=_capacity)
        self.owner = owner
        self.last: tuple[int, float] = (0, 0.0)  # the last record added: each handler of a process sees it

    def add(self, record: logging.LogRecord, message: str) -> None:
        """Keep ``record`` (its ``message`` formatted), cut, unless it was the last one kept."""
        seen = (id(record), record.created)
        if seen != self.last:
            self.last = seen
            self.crumbs.append(Crumb(record.created, record.levelno, record.name[:LOGGER_CHARS],
                                     message[:MESSAGE_CHARS]))

    def newest(self, count: int) -> tuple[Crumb, ...]:
        """The newest ``count`` breadcrumbs, oldest first."""
        crumbs = tuple(self.crumbs)  # one C call: no other thread appends in between
        return crumbs[-count:] if len(crumbs) > count else crumbs


_TRAIL: ContextVar[Trail | None] = ContextVar("logmonitor_breadcrumbs", default=None)


def reserve(count: int) -> None:
    """A handler keeps ``count`` breadcrumbs: trails made from now on hold at least that many."""
    global _capacity
    _capacity = max(_capacity, count)


def current_trail() -> Trail | None:
    """The current context's trail (made on first use); None when no handler keeps breadcrumbs or at the bound."""
    trail = _TRAIL.get()
    if trail is not None and trail.owner is None:  # a log_context block's
        return trail
    owner = _owner()
    if trail is None or trail.owner != owner:  # none yet, or inherited from the thread or task that started this one
        trail = _new_trail(owner)
        _TRAIL.set(trail)
    return trail


@contextmanager
def block() -> Iterator[None]:
    """A ``log_context`` block: a trail of its own, starting from the enclosing block's."""
    enclosing = _TRAIL.get()
    seed = enclosing.crumbs if enclosing is not None and enclosing.owner is None else ()
    token = _TRAIL.set(_new_trail(None, seed) if _capacity else None)
    try:
        yield
    finally:
        _TRAIL.reset(token)


def _owner() -> int:
    """The id of the running asyncio task, else the thread's."""
    loop = asyncio._get_running_loop()  # None outside a loop; asyncio.current_task() would raise there
    task = asyncio.current_task(loop) if loop is not None else None
    return id(task) if task is not None else threading.get_ident()


def _new_trail(owner: int | None, seed: Iterable[Crumb] = ()) -> Trail | None:
    if not _capacity:
        return None
    if len(_live) >= MAX_TRAILS:
        if not _refused[0]:
            _refused[0] = True
            print(f"logmonitor handler: {MAX_TRAILS} contexts keep breadcrumbs already; errors of further "
                  "contexts carry none until some end", file=sys.stderr)
        return None
    trail = Trail(owner, seed)
    _live.add(trail)
    return trail


class WrittenCrumbs:
    """The sender thread's breadcrumbs as records carry them, each written, redacted and measured once.

    Consecutive errors of a context share all but their newest breadcrumbs, so a burst of errors
    costs one redaction per breadcrumb, not one per breadcrumb per error. The newest
    ``WRITTEN_KEPT`` written breadcrumbs are kept (each with the crumb itself, so its id is not reused).
    """

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._written: dict[int, tuple[Crumb, dict[str, Any], int]] = {}

    def within(self, crumbs: Sequence[Crumb], max_bytes: int) -> list[dict[str, Any]]:
        """The newest of ``crumbs`` whose compact JSON array takes at most ``max_bytes``, written, oldest first."""
        chosen: list[dict[str, Any]] = []
        total = 2  # the brackets
        for crumb in reversed(crumbs):
            written, size = self._written_one(crumb)
            size += 1 if chosen else 0  # the comma before every one but the first
            if total + size > max_bytes:
                break
            total += size
            chosen.append(written)
        chosen.reverse()
        return chosen

    def _written_one(self, crumb: Crumb) -> tuple[dict[str, Any], int]:
        known = self._written.get(id(crumb))
        if known is not None and known[0] is crumb:
            return known[1], known[2]
        written = {"timestamp": iso_timestamp_truncated(crumb.created), "level": level_name(crumb.levelno),
                   "logger": crumb.logger, "message": self._redactor.text(crumb.message)}  # cut when it was taken
        size = len(orjson.dumps(written))
        if len(self._written) >= WRITTEN_KEPT:
            del self._written[next(iter(self._written))]  # the oldest written
        self._written[id(crumb)] = (crumb, written, size)
        return written, size
