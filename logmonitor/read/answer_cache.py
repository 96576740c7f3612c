"""Answers computed at most once per interval, shared by every request that arrives meanwhile.

``/stats`` merges every service profile and an hour of windows from all workers; under
hundreds of requests per second, computing it once a second and sharing the answer keeps
the event loop free for routing (figures in docs/benchmarks.md, P4).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["AnswerCache"]


class AnswerCache:
    """One answer per key, fresh for ``ttl`` seconds; concurrent misses wait for one computation."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._answers: dict[str, tuple[float, Any]] = {}
        self._pending: dict[str, asyncio.Future[Any]] = {}

    async def get(self, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        """The cached answer for ``key``, or ``compute()``'s (errors are not cached)."""
        cached = self._answers.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            answer = await compute()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here, so an unawaited failure is not reported twice
            raise
        else:
            self._answers[key] = (time.monotonic(), answer)
            future.set_result(answer)
            return answer
        finally:
            del self._pending[key]
