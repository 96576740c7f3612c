"""``GET /ready``'s view of Kafka: a background check of the producer's client, one log line per change."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiokafka.errors import KafkaConnectionError

from logmonitor.ingest import readiness as module
from logmonitor.ingest.readiness import Readiness


class Broker:
    """A probe whose answer the test sets: answer, refuse, or never answer."""

    def __init__(self) -> None:
        self.state = "up"

    async def metadata(self) -> object:
        if self.state == "refusing":
            raise KafkaConnectionError("connection refused")
        if self.state == "silent":
            await asyncio.sleep(3600)
        return object()


async def test_ready_follows_kafka_and_says_so_once_per_change(monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(module, "PROBE_SECONDS", 0.05)
    broker = Broker()
    readiness = Readiness(broker.metadata)
    assert readiness.ready and await readiness.check()
    broker.state = "refusing"
    assert not await readiness.check() and readiness.reason == "KafkaConnectionError"
    broker.state = "silent"
    assert not await readiness.check() and readiness.reason == "TimeoutError"
    broker.state = "up"
    assert await readiness.check() and readiness.reason == ""
    lines = [r.getMessage() for r in caplog.records if r.name == module.__name__ and r.levelno >= logging.WARNING]
    assert len(lines) == 2 and "503" in lines[0] and "200" in lines[1], lines


async def test_the_watch_checks_until_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "CHECK_SECONDS", 0.01)
    broker = Broker()
    readiness = Readiness(broker.metadata)
    watching = asyncio.create_task(readiness.watch())
    broker.state = "refusing"
    async with asyncio.timeout(5):
        while readiness.ready:  # noqa: ASYNC110 (the watch has no event to wait on: it is what is tested)
            await asyncio.sleep(0.01)
    watching.cancel()
    with pytest.raises(asyncio.CancelledError):
        await watching
