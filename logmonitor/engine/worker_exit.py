"""A worker process that ends once its services have stopped, not a second later.

Why: mode's worker, after every service has stopped (the commit and the group leave take about
30 ms), runs one last ``_sentinel_task`` on the loop before closing it: ``asyncio.sleep(1.0)``.
That second is most of a clean stop's time (``docker stop``, a rolling restart, and about 90
worker stops in the test suite). The sentinel is there so that callbacks scheduled while the
services closed (transports' connection-lost calls) run before the loop closes; a few loop turns
do that.

Verified against mode-streaming 0.7.1 (``mode/worker.py``). It assumes: ``Worker._shutdown_loop``
awaits ``self._sentinel_task()`` as its last step before ``loop.close()``, and looks it up on the
instance. ``tests/unit/engine/test_worker_exit.py`` checks both.
"""

from __future__ import annotations

import asyncio

import faust

__all__ = ["SENTINEL_SECONDS", "PromptExitWorker"]

SENTINEL_SECONDS = 0.05


class PromptExitWorker(faust.Worker):
    """A :class:`faust.Worker` whose last wait before the loop closes is a few loop turns, not a second."""

    async def _sentinel_task(self) -> None:
        await asyncio.sleep(SENTINEL_SECONDS)
