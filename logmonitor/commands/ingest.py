"""``logmonitor ingest``: the HTTP ingest server (OTLP/HTTP, Loki push, NDJSON) in front of Kafka."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import sys

import click
from aiokafka.errors import KafkaError

from logmonitor.broker_probe import wait_for_metadata
from logmonitor.ingest.refusals import OTLP_PATH
from logmonitor.ingest.routes import LOKI_PATH, NDJSON_PATH
from logmonitor.ingest.server import serve
from logmonitor.ingest.settings import IngestSettings
from logmonitor.settings import ConfigError

__all__ = ["ingest"]


def _exit_with(message: str) -> None:
    click.echo(f"logmonitor ingest: {message}", err=True)
    sys.exit(2)


async def _run(settings: IngestSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def announce() -> None:
        click.echo(f"logmonitor ingest: listening on {settings.url} (OTLP {OTLP_PATH}, Loki {LOKI_PATH}, NDJSON "
                   f"{NDJSON_PATH}), producing to {settings.logs_topic} at {settings.bootstrap_servers}", err=True)

    await serve(settings, stop, announce)


@click.command()
@click.option("--host", default=None, help="Listen address [$LOGMONITOR_INGEST_HOST or 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Listen port [$LOGMONITOR_INGEST_PORT or 4318].")
def ingest(host: str | None, port: int | None) -> None:
    """Take logs over HTTP (OTLP, Loki push, NDJSON) into Kafka; 2xx once Kafka acknowledged every record."""
    try:
        settings = IngestSettings.from_env()
    except ConfigError as error:
        _exit_with(str(error))
    settings = dataclasses.replace(settings, host=host or settings.host, port=port or settings.port)
    if refusal := settings.exposure_refusal():
        _exit_with(refusal)
    if settings.anonymous_on_network:
        click.echo("logmonitor ingest: warning: anyone who can reach it may send logs "
                   "(LOGMONITOR_ALLOW_ANONYMOUS=true), addressed to a loopback name, the listen host or a name in "
                   "LOGMONITOR_ALLOWED_HOSTS", err=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # a broker away is answered 503, not logged per attempt
    if not wait_for_metadata(settings.bootstrap_servers, settings.broker_wait.total_seconds(),
                             security=settings.security):
        _exit_with(f"no Kafka broker answers at {settings.bootstrap_servers}. Start one with `logmonitor kafka start` "
                   "(or `make run`), or point KAFKA_BOOTSTRAP_SERVERS at a cluster.")
    try:
        asyncio.run(_run(settings))
    except KafkaError as error:
        _exit_with(f"Kafka at {settings.bootstrap_servers} refused the producer: {error}")
    except OSError as error:
        _exit_with(f"cannot listen on {settings.host}:{settings.port}: {error}")
