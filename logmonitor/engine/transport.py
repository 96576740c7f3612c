"""An app whose ``kafka://`` transport is the seam's: the batching consumer and the checked producer.

Why: Faust builds its transport in the private ``App._new_transport()`` from the broker URL's
scheme; the only way to give the app another consumer and producer class (Faust has no setting
for them) is to override it.

Verified against faust-streaming 0.15.3 (``faust/app/base.py``, ``faust/transport/drivers/
aiokafka.py``). It assumes: ``App.transport`` is built once by ``_new_transport()`` (no
arguments); a transport makes its consumer and producer from its ``Consumer`` and ``Producer``
class attributes; ``Transport(url, app)`` is the aiokafka transport's constructor.
``tests/unit/engine/test_transport.py`` checks each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TopicT
from faust.types.transports import TransportT

from logmonitor.engine.batch_consumer import BatchHandler, BatchingConsumer
from logmonitor.engine.checked_producer import CheckedProducer

__all__ = ["BatchingApp", "BatchingTransport"]


class BatchingTransport(faust_aiokafka.Transport):
    """The ``kafka://`` transport with :class:`BatchingConsumer`, and a producer whose flush waits for every outcome."""

    Consumer = BatchingConsumer
    Producer = CheckedProducer


class BatchingApp(faust.App):
    """A Faust app on :class:`BatchingTransport`, whose topics may have a batch handler instead of an agent.

    Topics with a batch handler (:meth:`batch_handler`) are consumed a fetched batch per
    partition at a time (``batch_consumer.py``) instead of through an agent's stream.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_handlers: dict[str, BatchHandler] = {}

    def batch_handler(self, topic: TopicT) -> Callable[[BatchHandler], BatchHandler]:
        """Decorate ``async def handler(batch)``: it gets each partition's fetched records of ``topic``.

        The records count as processed when the handler returns; it must process all of them.
        """
        def register(handler: BatchHandler) -> BatchHandler:
            self.batch_handlers.update((name, handler) for name in topic.topics)
            self.topics.add(topic)
            return handler
        return register

    def _new_transport(self) -> TransportT:
        return BatchingTransport(self.conf.broker_consumer, self)
