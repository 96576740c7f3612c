"""The event-loop lag probe: a loop blocked by slow work shows in logmonitor_event_loop_lag_seconds."""

from __future__ import annotations

import asyncio
import time

from logmonitor.metrics import REGISTRY
from logmonitor.server.loop_lag import probe_loop_lag


def observed() -> tuple[float, float]:
    """The histogram's count and sum so far."""
    count = REGISTRY.get_sample_value("logmonitor_event_loop_lag_seconds_count") or 0.0
    total = REGISTRY.get_sample_value("logmonitor_event_loop_lag_seconds_sum") or 0.0
    return count, total


async def test_a_blocked_loop_is_observed_as_lag() -> None:
    count, total = observed()
    wakeups = 0

    def running() -> bool:
        nonlocal wakeups
        wakeups += 1
        return wakeups <= 6  # three sleeps: each checks before and after

    blocked, interval = 0.1, 0.01
    loop = asyncio.get_running_loop()
    loop.call_later(interval / 2, time.sleep, blocked)  # slow work on the loop while the probe sleeps
    await probe_loop_lag(asyncio.sleep, running, interval=interval)
    new_count, new_total = observed()
    assert new_count - count == 3
    assert new_total - total >= blocked - interval  # the sleep it blocked woke at least `blocked` after it began


async def test_the_probe_stops_without_observing_a_sleep_cut_short() -> None:
    count, _total = observed()
    stop = asyncio.Event()

    async def sleep(seconds: float) -> None:
        stop.set()  # the worker stopping wakes the sleep early

    await probe_loop_lag(sleep, lambda: not stop.is_set(), interval=10)
    assert observed()[0] == count
