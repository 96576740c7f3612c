"""Contract of the short fetch wait with Faust's aiokafka driver (faust-streaming 0.15.3) and aiokafka 0.14.0."""

from __future__ import annotations

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka

from logmonitor.engine.fetch_wait import FETCH_MAX_WAIT_MS
from logmonitor.server.app import LogMonitorApp
from tests.unit.engine.signatures import bare_signature, calls


def test_faust_makes_its_thread_and_the_worker_consumer_where_the_hook_replaces_them() -> None:
    assert bare_signature(faust_aiokafka.Consumer._new_consumer_thread) == "(self)"
    assert calls(faust_aiokafka.Consumer._new_consumer_thread,
                 "AIOKafkaConsumerThread(self, loop=self.loop, beacon=self.beacon)")
    assert bare_signature(faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer) == "(self, transport)"
    assert calls(faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer, "fetch_max_wait_ms=1500")


def test_aiokafka_hands_the_stored_wait_to_its_fetcher_at_start() -> None:
    assert calls(aiokafka.AIOKafkaConsumer.__init__, "self._fetch_max_wait_ms = fetch_max_wait_ms")
    assert calls(aiokafka.AIOKafkaConsumer.start, "fetch_max_wait_ms=self._fetch_max_wait_ms")


async def test_the_workers_consumer_waits_at_most_the_short_poll(app: LogMonitorApp) -> None:
    thread = app.consumer._new_consumer_thread()
    consumer = thread._create_worker_consumer(app.transport)
    assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS < 1500
