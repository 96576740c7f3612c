"""``logmonitor ingest``: a stateless HTTP server that takes OTLP/HTTP, Loki push and NDJSON logs into Kafka.

Stateless, so any number run behind a load balancer: each holds only the requests it is
serving and one idempotent producer. It needs neither Faust nor a worker (DESIGN section 5).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from aiokafka import AIOKafkaProducer

from logmonitor.ingest.guards import middlewares
from logmonitor.ingest.publisher import InFlight, Publisher
from logmonitor.ingest.readiness import Readiness
from logmonitor.ingest.routes import STATE, IngestState, setup_routes
from logmonitor.ingest.settings import IngestSettings
from logmonitor.server.topic_admin import MAX_MESSAGE_BYTES
from logmonitor.web.middleware import add_security_headers

__all__ = ["create_ingest_app", "kafka_producer", "serve"]

logger = logging.getLogger(__name__)

# After a refusal (413 above all: the rest of a gzip bomb) aiohttp reads what the client still
# sends before closing, 10 s by default; 2 s bounds what one oversized request costs.
LINGERING_SECONDS = 2.0
STOP_SECONDS = 15.0


def kafka_producer(settings: IngestSettings) -> AIOKafkaProducer:
    """The producer: idempotent, ``acks=all``, lz4 batches as the worker's; gives up after the produce timeout."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        compression_type="lz4",
        max_batch_size=1024 * 1024,
        max_request_size=MAX_MESSAGE_BYTES,
        request_timeout_ms=int(settings.produce_timeout.total_seconds() * 1000),
        **settings.security.aiokafka_options(),
    )


def create_ingest_app(state: IngestState) -> web.Application:
    """The aiohttp application: routes, middlewares, the body limit (after decompression), security headers."""
    app = web.Application(middlewares=middlewares(state.settings),
                          client_max_size=state.settings.max_body_bytes)
    app[STATE] = state
    setup_routes(app)
    app.on_response_prepare.append(add_security_headers)
    return app


async def serve(settings: IngestSettings, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
    """Start the producer, serve until ``stop`` is set, then stop serving and flush the producer.

    Raises:
        aiokafka.errors.KafkaConnectionError: no broker answers at the bootstrap servers.
    """
    producer = kafka_producer(settings)
    await producer.start()
    readiness = Readiness(producer.client.fetch_all_metadata)
    watching = asyncio.create_task(readiness.watch())
    try:
        publisher = Publisher(producer, settings.logs_topic, settings.dlq_topic,
                              settings.produce_timeout.total_seconds())
        state = IngestState(settings, InFlight(settings.max_in_flight_bytes), publisher, readiness)
        runner = web.AppRunner(create_ingest_app(state), lingering_time=LINGERING_SECONDS, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.host, settings.port).start()
            if on_ready is not None:
                on_ready()
            await stop.wait()
        finally:
            await runner.cleanup()
    finally:
        watching.cancel()
        try:
            await asyncio.wait_for(producer.stop(), STOP_SECONDS)
        except asyncio.TimeoutError:
            logger.warning("the producer did not stop within %s s; unacknowledged records were not answered 2xx",
                           STOP_SECONDS)
