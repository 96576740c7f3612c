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

__all__ = ["AnswerCache", "shared_computation"]


async def shared_computation(pending: dict[str, asyncio.Future[Any]], key: str,
                             compute: Callable[[], Awaitable[Any]]) -> Any:
    """``compute()``'s answer; whoever asks for ``key`` while it runs waits for the same one (errors too)."""
    running = pending.get(key)
    if running is not None:
        return await asyncio.shield(running)
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    pending[key] = future
    try:
        answer = await compute()
    except BaseException as error:
        future.set_exception(error)
        future.exception()  # retrieved here, so an unawaited failure is not reported twice
        raise
    else:
        future.set_result(answer)
        return answer
    finally:
        del pending[key]


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

        async def computed() -> Any:
            answer = await compute()
            self._answers[key] = (time.monotonic(), answer)
            return answer

        return await shared_computation(self._pending, key, computed)
