"""Contract of the producer buffer hook with Faust's ProducerBuffer (faust-streaming 0.15.3)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.transport import producer as faust_producer

from logmonitor.engine.producer_buffer import flush_up_to_now
from tests.unit.engine.signatures import bare_signature, calls

ProducerBuffer = faust_producer.ProducerBuffer


class _Gate:
    """A record's channel whose publish (the hand-over to aiokafka) waits until it is opened."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.published = False

    async def publish_message(self, fut: Any, wait: bool) -> None:
        await self.open.wait()
        self.published = True


def record(gate: _Gate) -> Any:
    return SimpleNamespace(message=SimpleNamespace(channel=gate))


def test_the_replaced_methods_have_the_verified_signatures() -> None:
    assert bare_signature(ProducerBuffer.put) == "(self, fut)"
    assert bare_signature(ProducerBuffer._send_pending) == "(self, fut)"
    assert bare_signature(ProducerBuffer.flush) == "(self)"


def test_the_producer_puts_on_its_buffer_and_the_buffer_hands_over_through_send_pending() -> None:
    assert calls(faust_producer.Producer.send_soon, "self.buffer.put(fut)")
    assert calls(ProducerBuffer._handle_pending, "send_pending = self._send_pending", "await send_pending(msg)")


async def test_flush_returns_once_the_records_buffered_before_it_are_handed_over() -> None:
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    flush_up_to_now(buffer)
    await buffer.start()  # Faust's own loop hands records over
    earlier, later = _Gate(), _Gate()
    try:
        buffer.put(record(earlier))
        flushing = asyncio.create_task(buffer.flush())
        await asyncio.sleep(0)  # the flush begins
        buffer.put(record(later))
        await asyncio.sleep(0.15)  # Faust's flush gives up after 0.1 s without a record handed over
        assert not flushing.done(), "flush waits for the record buffered before it"
        earlier.open.set()
        await asyncio.wait_for(flushing, 5)
        assert earlier.published and not later.published, "not for the one buffered after it"
        later.open.set()
        await asyncio.wait_for(buffer.flush(), 5)
    finally:
        earlier.open.set()
        later.open.set()
        await buffer.stop()
