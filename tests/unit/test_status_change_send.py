"""A PATCH's command is answered as it is: applied, pending while it may still land, or refused (issue 26 item 7)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, NotEnoughReplicasError
from aiokafka.structs import RecordMetadata, TopicPartition

from logmonitor.triage.commands import StatusCommand
from logmonitor.web.groups import CommandNotSent, send_command

COMMAND = StatusCommand(group="g", service="pay", from_status="unresolved", to="resolved", ignore=None, who="anonymous",
                        at=1_800_000_000.0, request_id="r-1")


def metadata(offset: int) -> RecordMetadata:
    return RecordMetadata("commands", 2, TopicPartition("commands", 2), offset, -1, 0, 0)


class Topic:
    """A command topic whose producer acknowledges after ``delay`` seconds, or fails with ``failure``."""

    def __init__(self, delay: float = 0.0, failure: BaseException | None = None, refuse: bool = False) -> None:
        self.delay, self.failure, self.refuse = delay, failure, refuse
        self.acknowledged: asyncio.Future[Any] | None = None

    async def send(self, *, key: bytes, value: bytes, partition: int) -> asyncio.Future[Any]:
        if self.refuse:
            raise KafkaConnectionError("no broker")
        self.acknowledged = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(self.delay, self._settle)
        return self.acknowledged

    def _settle(self) -> None:
        assert self.acknowledged is not None
        if self.failure is not None:
            self.acknowledged.set_exception(self.failure)
        else:
            self.acknowledged.set_result(metadata(41))


async def test_an_acknowledged_command_gives_its_position() -> None:
    assert await send_command(Topic(), COMMAND, 2, wait=1.0) == (2, 41)


async def test_a_command_acknowledged_after_the_wait_is_pending_and_still_lands(caplog: pytest.LogCaptureFixture
                                                                                 ) -> None:
    topic = Topic(delay=0.1)
    assert await send_command(topic, COMMAND, 2, wait=0.02) is None, "pending: the answer says it may land"
    assert topic.acknowledged is not None and not topic.acknowledged.done()
    assert await asyncio.wait_for(topic.acknowledged, 1) == metadata(41), "the send went on after the answer"
    assert any("r-1" in r.getMessage() and "may still be applied" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("failure", [NotEnoughReplicasError(), asyncio.TimeoutError(), KafkaConnectionError()])
async def test_a_failure_after_which_the_command_may_have_landed_is_pending(failure: BaseException) -> None:
    assert await send_command(Topic(failure=failure), COMMAND, 2, wait=1.0) is None


async def test_a_command_the_broker_refused_is_not_sent() -> None:
    with pytest.raises(CommandNotSent) as refused:
        await send_command(Topic(failure=MessageSizeTooLargeError()), COMMAND, 2, wait=1.0)
    assert "MessageSizeTooLarge" in refused.value.detail and "MessageSizeTooLarge" not in refused.value.message


async def test_a_command_the_producer_did_not_take_is_not_sent() -> None:
    with pytest.raises(CommandNotSent):
        await send_command(Topic(refuse=True), COMMAND, 2, wait=1.0)
