"""The worker process: Faust's worker, set up for a busy stream.

Two of the interpreter's defaults cost a busy router much of its CPU (``bench/pipeline``, P2):

- At log level WARN and above, Faust's worker adds a handler that turns a spinner on every
  log record, and sets the root logger to DEBUG for it for good: every ``log.debug`` call in
  aiokafka and Faust then builds a record no handler writes, about 10 % of the CPU.
- CPython collects its youngest generation every 700 container objects allocated. The
  fetched batches keep tens of thousands of records alive while they are routed, so
  collections come every few hundred records, promote those records to older generations
  and traverse them again there: 15-20 % of the CPU per record. A young generation of
  ``YOUNG_GENERATION`` objects makes that rare (cyclic garbage waits a little longer: at
  most that many objects); the older generations keep their ratios.
"""

from __future__ import annotations

import gc
from typing import Any

import faust

__all__ = ["YOUNG_GENERATION", "StreamWorker"]

YOUNG_GENERATION = 50_000


class StreamWorker(faust.Worker):
    """A :class:`faust.Worker` without the spinner, with fewer garbage collections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spinner = None
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(YOUNG_GENERATION, older, oldest)
