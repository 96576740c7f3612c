"""The worker process: Faust's worker, set up for a busy stream.

Two defaults, Faust's and CPython's, cost a busy router much of its CPU (``bench/pipeline``, P2):

- At log level WARN and above, Faust's worker adds a handler that turns a spinner on every
  log record, and sets the root logger to DEBUG for it for good: every ``log.debug`` call in
  aiokafka and Faust then builds a record no handler writes, about 10 % of the CPU.
- CPython collects its youngest generation every 700 container objects allocated. The
  fetched batches keep tens of thousands of records alive while they are routed, so a
  collection came every few hundred records and moved those records on to older generations,
  to be traversed again there; the worker spent 15-20 % more CPU per record than with a young
  generation of ``YOUNG_GENERATION`` objects. The price is memory while catching up at full
  speed: garbage in reference cycles waits longer (about 25 MiB more, docs/benchmarks.md, P5);
  at a steady rate it is not measurable (P6). The middle generation is collected every
  ``MIDDLE_GENERATION`` young collections instead of every 10: it holds what survived those,
  and while the tables grow (100,000 error groups, P11) ten collections' survivors took one
  collection 112-195 ms of the loop, two take 37-105 ms. The oldest keeps its ratio.

Once asked to stop, it exits as soon as its services have stopped (``engine/worker_exit.py``),
and within ``LOGMONITOR_SHUTDOWN_TIMEOUT`` whatever holds it (``server/shutdown_deadline.py``).
"""

from __future__ import annotations

import gc
from typing import Any

from mode import Service

from logmonitor.engine.worker_exit import PromptExitWorker
from logmonitor.server.context import context_of
from logmonitor.server.loop_lag import probe_loop_lag
from logmonitor.server.shutdown_deadline import exit_after

__all__ = ["MIDDLE_GENERATION", "YOUNG_GENERATION", "StreamWorker"]

YOUNG_GENERATION = 50_000
MIDDLE_GENERATION = 2


class StreamWorker(PromptExitWorker):
    """A :class:`faust.Worker` without the spinner, with fewer garbage collections, measuring its loop's lag.

    It stops within the settings' shutdown timeout.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spinner = None
        *_, oldest = gc.get_threshold()
        gc.set_threshold(YOUNG_GENERATION, MIDDLE_GENERATION, oldest)

    @Service.task
    async def _probe_loop_lag(self) -> None:
        """From start to stop, also while tables recover (``logmonitor_event_loop_lag_seconds``)."""
        await probe_loop_lag(self.sleep, lambda: not self.should_stop)

    async def stop(self) -> None:
        """Stop as Faust does, with the process's exit at most the shutdown timeout away."""
        if not self.should_stop:
            exit_after(context_of(self.app).settings.shutdown_timeout.total_seconds())
        await super().stop()
