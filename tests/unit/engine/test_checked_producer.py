"""Contract of the checked producer hook with Faust's aiokafka producer (faust-streaming 0.15.3, aiokafka 0.14.0)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faust.transport import consumer as faust_consumer
from faust.transport import producer as faust_producer
from faust.transport.drivers import aiokafka as faust_aiokafka

from logmonitor.engine.checked_producer import CheckedProducer
from logmonitor.engine.transport import BatchingApp
from tests.unit.engine.signatures import bare_signature, calls

Producer = faust_aiokafka.Producer


def test_the_overridden_methods_have_the_verified_signatures() -> None:
    assert bare_signature(Producer.send) == \
        "(self, topic, key, value, partition, timestamp, headers, *, transactional_id=None)"
    assert bare_signature(CheckedProducer.send) == bare_signature(Producer.send)
    assert bare_signature(Producer.flush) == bare_signature(CheckedProducer.flush) == "(self)"


def test_faust_sends_through_send_and_commits_after_flush() -> None:
    assert calls(Producer.send, "await transaction_producer.send(")  # hands back aiokafka's future
    assert calls(faust_producer.ProducerBuffer._send_pending, "publish_message(fut, wait=False)")
    assert calls(faust_consumer.Consumer._commit_offsets, "await self.app.producer.flush()\n"
                 "                did_commit = await self._commit(committable_offsets)")


async def test_every_send_is_followed_and_flush_waits_for_its_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def aiokafka_send(self: Producer, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        return delivery

    monkeypatch.setattr(Producer, "send", aiokafka_send)
    producer = BatchingApp("engine-contract-producer", broker="kafka://127.0.0.1:1").producer
    monkeypatch.setattr(producer.buffer, "flush", lambda: asyncio.sleep(0))
    assert await producer.send("topic", b"k", b"v", None, None, None) is delivery
    flushing = asyncio.create_task(producer.flush())
    await asyncio.sleep(0.01)
    assert not flushing.done(), "flush waits for the outcome"
    delivery.set_result(None)
    await asyncio.wait_for(flushing, 5)
