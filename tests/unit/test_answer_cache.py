"""AnswerCache: one computation per interval, shared by concurrent requests; failures not kept."""

from __future__ import annotations

import asyncio

import pytest

from logmonitor.read.answer_cache import AnswerCache


async def test_concurrent_requests_share_one_computation_until_it_expires() -> None:
    cache = AnswerCache(ttl=0.2)  # the slack a loaded machine needs between the answer and the next get
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return calls

    answers = await asyncio.gather(*(cache.get("stats", compute) for _ in range(50)))
    assert answers == [1] * 50 and calls == 1
    assert await cache.get("stats", compute) == 1
    await asyncio.sleep(0.25)
    assert await cache.get("stats", compute) == 2


async def test_a_failure_reaches_every_waiter_and_is_not_cached() -> None:
    cache = AnswerCache(ttl=10)

    async def fail() -> int:
        await asyncio.sleep(0.01)
        raise RuntimeError("peer down")

    results = await asyncio.gather(*(cache.get("stats", fail) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)

    async def succeed() -> int:
        return 7

    assert await cache.get("stats", succeed) == 7
    with pytest.raises(RuntimeError):
        await cache.get("other", fail)
