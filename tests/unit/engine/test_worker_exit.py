"""Contract of the prompt exit with mode's Worker (mode-streaming 0.7.1)."""

from __future__ import annotations

import asyncio

import faust
import pytest
from mode import worker as mode_worker

from logmonitor.engine.worker_exit import SENTINEL_SECONDS, PromptExitWorker
from tests.unit.engine.signatures import bare_signature, calls


def test_the_loop_closes_right_after_the_sentinel_task_which_mode_makes_a_second_long() -> None:
    assert bare_signature(mode_worker.Worker._sentinel_task) == "(self)"
    assert calls(mode_worker.Worker._sentinel_task, "await asyncio.sleep(1.0)")
    assert calls(mode_worker.Worker._shutdown_loop,
                 "fut = asyncio.ensure_future(self._sentinel_task(), loop=self.loop)",
                 "self.loop.run_until_complete(fut)", "self.loop.close()")


def test_the_shutdown_awaits_our_sentinel_and_closes_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.new_event_loop()
    waited: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        await real_sleep(0)

    worker = PromptExitWorker(faust.App("worker-exit-contract"), loop=loop, loglevel="WARN")
    monkeypatch.setattr(asyncio, "sleep", sleep)
    worker._shutdown_loop()
    assert loop.is_closed()
    assert waited[-1] == SENTINEL_SECONDS, "the last wait before the loop closed was ours"
