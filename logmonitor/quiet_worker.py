"""Faust's worker without its terminal spinner, which leaves the root logger at DEBUG.

At log level WARN and above, Faust's worker adds a handler that turns a spinner on every log
record, and sets the root logger to DEBUG for it for good: every ``log.debug`` call in aiokafka
and Faust then builds a record no handler writes, about 10 % of a busy worker's CPU
(``bench/pipeline``, P2).
"""

from __future__ import annotations

from typing import Any

import faust

__all__ = ["QuietWorker"]


class QuietWorker(faust.Worker):
    """A :class:`faust.Worker` whose root logger stays at the level asked for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spinner = None
