"""Contract of the transport hook with Faust's App and aiokafka transport (faust-streaming 0.15.3)."""

from __future__ import annotations

import faust
from faust.transport import base as faust_transport

from logmonitor.engine.batch_consumer import BatchingConsumer
from logmonitor.engine.checked_producer import CheckedProducer
from logmonitor.engine.transport import BatchingApp, BatchingTransport
from tests.unit.engine.signatures import bare_signature, calls


def test_faust_builds_its_transport_once_from_new_transport() -> None:
    assert bare_signature(faust.App._new_transport) == "(self)"
    assert calls(faust.App.transport.fget, "self._transport = self._new_transport()")
    assert bare_signature(faust_transport.Transport.__init__) == "(self, url, app, loop=None)"


def test_a_transport_makes_its_consumer_and_producer_from_its_class_attributes() -> None:
    assert calls(faust_transport.Transport.create_consumer, "self.Consumer(")
    assert calls(faust_transport.Transport.create_producer, "self.Producer(")


def test_the_app_runs_the_batching_consumer_and_the_checked_producer() -> None:
    app = BatchingApp("engine-contract-transport", broker="kafka://127.0.0.1:1")  # never connected
    assert type(app.transport) is BatchingTransport
    assert type(app.consumer) is BatchingConsumer
    assert type(app.producer) is CheckedProducer
