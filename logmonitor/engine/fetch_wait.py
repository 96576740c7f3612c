"""The worker's consumer long-polls the broker for 500 ms (aiokafka's default), not Faust's 1,500 ms.

Why: aiokafka sends a consumer's fetches and its offset look-ups (ListOffsets) to a broker over
one connection, which the broker answers in order. A fetch with nothing to read is held for the
consumer's ``fetch_max_wait_ms``, so a look-up sent meanwhile waits behind it: the earliest-offset
look-up of every rebalance (``batch_consumer.BatchingConsumer.perform_seek``) took 1.5 s, on every
worker start and every partition move (measured: 1.49 s for one request of 4 partitions). Faust
hard-codes 1,500 ms; a shorter poll costs two small requests a second on an idle partition set.

Verified against faust-streaming 0.15.3 and aiokafka 0.14.0. It assumes: Faust's consumer makes
its thread in ``_new_consumer_thread()`` as ``AIOKafkaConsumerThread(self, loop=self.loop,
beacon=self.beacon)``, and the thread makes the worker's ``AIOKafkaConsumer`` in
``_create_worker_consumer(transport)``; aiokafka keeps ``fetch_max_wait_ms`` as
``_fetch_max_wait_ms`` until ``start()`` hands it to its fetcher. ``tests/unit/engine/
test_fetch_wait.py`` checks each.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

__all__ = ["FETCH_MAX_WAIT_MS", "ShortPollConsumer"]

FETCH_MAX_WAIT_MS = 500


class _ShortPollThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class ShortPollConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer whose worker consumer waits at most :data:`FETCH_MAX_WAIT_MS` per fetch."""

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ShortPollThread(self, loop=self.loop, beacon=self.beacon)
