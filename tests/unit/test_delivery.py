"""The delivery contract: a refused write is retried, then stops the worker; flush waits for every outcome."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiokafka.errors import MessageSizeTooLargeError

from logmonitor.metrics import SEND_FAILURES, WRITES_REFUSED
from logmonitor.server.delivery import EXIT_REFUSED, Deliveries, WriteRefused

ERRORS, CHANGELOG, ALERTS = "errors", "app-service-state-changelog", "alerts"
DELAYS = (0.01, 0.02)


class FakeKafka:
    """Hands messages over as futures the test settles; refuses the first ``refusals`` attempts of each."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.attempts: list[str] = []

    def hand_over(self, topic: str) -> Any:
        async def attempt() -> asyncio.Future[Any]:
            delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            failed = sum(name == topic for name in self.attempts) < self.refusals
            self.attempts.append(topic)
            if failed:
                delivery.set_exception(MessageSizeTooLargeError())
            else:
                delivery.set_result(None)
            return delivery
        return attempt

    async def send(self, deliveries: Deliveries, topic: str) -> None:
        hand_over = self.hand_over(topic)
        deliveries.track(topic, await hand_over(), hand_over)


def guarded(stops: list[int]) -> Deliveries:
    deliveries = Deliveries(stop=stops.append, delays=DELAYS)
    deliveries.guard(retried=[ERRORS], stopping=[CHANGELOG])
    return deliveries


def count(metric: Any, topic: str) -> float:
    return float(metric.labels(topic)._value.get())


async def test_a_refused_forward_is_sent_again_and_flush_waits_for_the_retry() -> None:
    stops: list[int] = []
    deliveries, kafka = guarded(stops), FakeKafka(refusals=2)
    failures = count(SEND_FAILURES, ERRORS)
    await kafka.send(deliveries, ERRORS)
    await asyncio.wait_for(deliveries.settled(), 5)
    assert kafka.attempts == [ERRORS] * 3
    assert count(SEND_FAILURES, ERRORS) == failures + 2
    assert stops == [] and deliveries.refused is None


async def test_flush_does_not_return_while_an_earlier_message_is_being_retried() -> None:
    deliveries = Deliveries(stop=lambda _status: None, delays=(0.25,))
    deliveries.guard(retried=[ERRORS], stopping=[])
    await FakeKafka(refusals=1).send(deliveries, ERRORS)
    flushing = asyncio.create_task(deliveries.settled())
    await asyncio.sleep(0.02)
    assert not flushing.done(), "a commit must not pass a message that is still being retried"
    await asyncio.wait_for(flushing, 5)


async def test_a_forward_refused_after_every_retry_stops_the_worker_once_and_blocks_the_commit(
        caplog: pytest.LogCaptureFixture) -> None:
    stops: list[int] = []
    deliveries, kafka = guarded(stops), FakeKafka(refusals=99)
    refused = count(WRITES_REFUSED, ERRORS)
    with caplog.at_level(logging.WARNING, logger="logmonitor.server.delivery"):
        await kafka.send(deliveries, ERRORS)
        await kafka.send(deliveries, ERRORS)
        with pytest.raises(WriteRefused, match=f"refused a write to {ERRORS} \\(3 attempts\\)"):
            await asyncio.wait_for(deliveries.settled(), 5)
        await asyncio.sleep(0.1)  # the second message's retries end too
    assert kafka.attempts == [ERRORS] * 6
    assert stops == [EXIT_REFUSED], "stopped once"
    assert count(WRITES_REFUSED, ERRORS) == refused + 2
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "without committing past it" in errors[0]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1, "one warning while retrying"
    with pytest.raises(WriteRefused):
        await deliveries.settled()


async def test_a_refused_changelog_write_stops_the_worker_without_a_second_attempt() -> None:
    stops: list[int] = []
    deliveries, kafka = guarded(stops), FakeKafka(refusals=1)
    await kafka.send(deliveries, CHANGELOG)
    with pytest.raises(WriteRefused):
        await asyncio.wait_for(deliveries.settled(), 5)
    assert kafka.attempts == [CHANGELOG] and stops == [EXIT_REFUSED]


async def test_a_lost_message_of_another_topic_is_logged_and_the_worker_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    stops: list[int] = []
    deliveries, kafka = guarded(stops), FakeKafka(refusals=1)
    await kafka.send(deliveries, ALERTS)
    await asyncio.wait_for(deliveries.settled(), 5)
    assert kafka.attempts == [ALERTS] and stops == []
    assert f"a message for {ALERTS} was not delivered" in caplog.text


async def test_flush_waits_only_for_messages_handed_over_before_it() -> None:
    deliveries, loop = guarded([]), asyncio.get_running_loop()
    hand_over = FakeKafka(refusals=0).hand_over(ERRORS)
    earlier: asyncio.Future[Any] = loop.create_future()
    later: asyncio.Future[Any] = loop.create_future()
    deliveries.track(ERRORS, earlier, hand_over)
    flushing = asyncio.create_task(deliveries.settled())
    await asyncio.sleep(0)  # the flush begins
    deliveries.track(ERRORS, later, hand_over)
    earlier.set_result(None)
    await asyncio.wait_for(flushing, 5)
    assert not later.done()
    later.set_result(None)
