"""The event-loop lag probe: how late the loop wakes a task that asked to sleep a quarter second.

Anything slow on the loop (a large scan in a view, a backtracking regex, a huge answer to
serialise) delays every request and every record behind it; the delay shows here, in
``logmonitor_event_loop_lag_seconds``, whatever caused it. One timer every 0.25 s costs nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from logmonitor.metrics import EVENT_LOOP_LAG

__all__ = ["PROBE_INTERVAL", "probe_loop_lag"]

PROBE_INTERVAL = 0.25


async def probe_loop_lag(sleep: Callable[[float], Awaitable[None]], running: Callable[[], bool],
                         interval: float = PROBE_INTERVAL) -> None:
    """Sleep ``interval`` seconds at a time while ``running()``, observing how late each wake-up came."""
    loop = asyncio.get_running_loop()
    while running():
        asked = loop.time()
        await sleep(interval)
        if running():
            EVENT_LOOP_LAG.observe(max(0.0, loop.time() - asked - interval))
