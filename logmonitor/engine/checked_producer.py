"""Faust's aiokafka producer, with every message followed to its final outcome (``logmonitor/server/delivery.py``).

Why: the consumer commits a source offset once the producer's ``flush`` returns, and Faust's
waits only for the hand-over to aiokafka; a message Kafka then refused was committed past.

Verified against faust-streaming 0.15.3 and aiokafka 0.14.0. It assumes: every message Faust
produces (topic sends, table changelogs, the producer buffer) goes through
``Producer.send(topic, key, value, partition, timestamp, headers, *, transactional_id=None)``,
which hands back aiokafka's delivery future; the consumer's commit awaits ``Producer.flush()``;
the transport makes its producer from its ``Producer`` attribute. Public names only, but
signatures Faust may change: ``tests/unit/engine/test_checked_producer.py`` checks them.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast

from aiokafka.structs import RecordMetadata
from faust.transport.drivers import aiokafka as faust_aiokafka

from logmonitor.server.delivery import Deliveries, Delivery

__all__ = ["CheckedProducer"]


class CheckedProducer(faust_aiokafka.Producer):
    """Faust's aiokafka producer whose ``flush`` waits for every message's final outcome (see the module)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.deliveries = Deliveries()

    async def send(self, topic: str, key: bytes | None, value: bytes | None, partition: int | None,
                   timestamp: float | None, headers: Any, *, transactional_id: str | None = None,
                   ) -> Awaitable[RecordMetadata]:
        """Schedule a message, as Faust does; its outcome is followed until final."""
        async def hand_over() -> Delivery:
            sent = await super(CheckedProducer, self).send(
                topic, key, value, partition, timestamp, headers, transactional_id=transactional_id)
            return cast(Delivery, sent)  # aiokafka's send hands back its future

        delivery = await hand_over()
        self.deliveries.track(topic, delivery, hand_over)
        return delivery

    async def flush(self) -> None:
        """Return once every message buffered or handed over before the call is delivered (the commit waits here).

        Raises:
            WriteRefused: a message the router depends on was refused for good.
        """
        await self.buffer.flush()
        await self.deliveries.settled()
