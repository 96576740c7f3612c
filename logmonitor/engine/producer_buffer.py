"""A producer buffer whose ``flush`` returns once every record buffered before the call is handed over.

Why: Faust's ``ProducerBuffer.flush`` gives up when no record leaves for 0.1 s (the broker
applying back-pressure) and does not see the record being handed to aiokafka at that moment.
The consumer's commit calls it first, so it could commit source offsets whose table changelog
records were never produced; a SIGKILL right after loses them: counts came up short (199,991
of 200,000) in the kill test under load. Waiting for an empty buffer instead starved the
commits while the router kept writing (committed offsets 151,000 records behind in a soak, P6):
the commit needs only what was buffered before it chose its offsets, and the buffer hands
records over in the order they came.

Verified against faust-streaming 0.15.3 (``faust/transport/producer.py``). It assumes: the
producer puts each record on its buffer with ``buffer.put(fut)``; the buffer's own loop hands
each one, in order, to the producer with ``await buffer._send_pending(fut)``; the producer's
flush (here ``CheckedProducer.flush``) awaits ``buffer.flush()``; and the three are looked up
on the instance at each call, so replacing them there, before the buffer starts, takes effect.
``tests/unit/engine/test_producer_buffer.py`` checks each.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["flush_up_to_now"]


def flush_up_to_now(buffer: Any) -> None:
    """Make ``buffer.flush()`` wait for exactly the records buffered before it (call before the buffer starts)."""
    buffered = handed_over = 0
    one_handed_over = asyncio.Event()
    buffer_one, hand_over = buffer.put, buffer._send_pending

    def put(message: Any) -> None:
        nonlocal buffered
        buffered += 1
        buffer_one(message)

    async def send_pending(message: Any) -> None:
        nonlocal handed_over
        try:
            await hand_over(message)
        finally:
            handed_over += 1
            one_handed_over.set()

    async def flush() -> None:
        up_to = buffered
        while handed_over < up_to:
            one_handed_over.clear()
            await one_handed_over.wait()

    buffer.put, buffer._send_pending, buffer.flush = put, send_pending, flush
