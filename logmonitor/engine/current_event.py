"""Write tables on behalf of a given event (Faust routes table writes by the current event).

Why: Faust sends a table write's changelog record to the current event's partition (and the
rocksdb store picks its database by it). The router's batch handler runs outside any stream,
and a batch from ``take_events`` leaves the *last* buffered event current, so writes must say
whose records they are.

Verified against faust-streaming 0.15.3 (``faust/streams.py``). It assumes: the current event is
the context variable ``faust.streams._current_event``, holding a weak reference to the event,
and ``faust.current_event()`` (which tables use) reads it. ``tests/unit/engine/
test_current_event.py`` checks both.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faust.streams import _current_event

__all__ = ["writing_as_handler_of"]


@contextmanager
def writing_as_handler_of(event: Any) -> Iterator[None]:
    """Make ``event`` the current event inside the block."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
