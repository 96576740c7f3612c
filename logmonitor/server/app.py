"""The one Faust application; every other worker-side module imports ``app`` from here."""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any, cast

import faust

from logmonitor.alerts.rules import load_rules
from logmonitor.engine.checked_producer import CheckedProducer
from logmonitor.engine.producer_buffer import flush_up_to_now
from logmonitor.engine.transport import BatchingApp
from logmonitor.server.topic_admin import MAX_MESSAGE_BYTES, changelog_specs, ensure_topics
from logmonitor.settings import KafkaSecurity, Settings

__all__ = ["LogMonitorApp", "alert_config", "app", "settings"]

settings = Settings.from_env()
alert_config = load_rules(settings.alert_rules)


def _broker_credentials(security: KafkaSecurity) -> Any:
    """Faust's credentials object for the configured TLS/SASL settings (None for plaintext)."""
    if security.protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=security.sasl_username,
            password=security.sasl_password,
            mechanism=security.sasl_mechanism or "PLAIN",
            ssl_context=security.ssl_context(),
        )
    if security.protocol == "SSL":
        return faust.SSLCredentials(security.ssl_context())
    return None


class LogMonitorApp(BatchingApp):
    """A Faust app on the engine seam's transport that creates the project's topics before its consumers subscribe."""

    async def on_first_start(self) -> None:
        """Create missing topics (partitions, retention) and table changelogs, then start as Faust does."""
        import logmonitor.pipeline.tables.every  # noqa: F401  (autodiscovery comes later)

        self.producer.buffer.max_messages = 5000
        flush_up_to_now(self.producer.buffer)
        changelogs = [table.changelog_topic.get_topic_name() for table in self.tables.values()]
        cast(CheckedProducer, self.producer).deliveries.guard(
            retried=(settings.errors_topic, settings.dlq_topic), stopping=changelogs)

        await ensure_topics(settings, changelog_specs(self.tables.values(), settings))
        await super().on_first_start()

    def on_webserver_init(self, web: Any) -> None:
        """Refuse an API open to the network without a token; put authentication, CORS and security headers in front.

        ``logmonitor worker`` refuses earlier, with the same line; this catches every other way to
        the web server (``faust -A logmonitor.server.app worker``, options before the command), before it binds.
        """
        from logmonitor.web.middleware import add_security_headers, middlewares

        if refusal := dataclasses.replace(settings, web_host=self.conf.web_bind).exposure_refusal():
            print(f"logmonitor: {refusal}", file=sys.stderr, flush=True)
            os._exit(2)  # not a crash: nothing has started that needs stopping, and no traceback wall
        web.web_app.middlewares.extend(middlewares(settings))
        web.web_app.on_response_prepare.append(add_security_headers)


app = LogMonitorApp(
    settings.app_id,
    broker=settings.broker_url,
    broker_credentials=_broker_credentials(settings.security),
    store=settings.store,
    datadir=settings.data_dir,
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication_factor,
    topic_disable_leader=True,
    consumer_auto_offset_reset="earliest",
    broker_session_timeout=settings.session_timeout.total_seconds(),
    broker_heartbeat_interval=min(3.0, settings.session_timeout.total_seconds() / 3),
    producer_max_request_size=MAX_MESSAGE_BYTES * 2,
    producer_max_batch_size=1024 * 1024,
    producer_linger_ms=5,
    producer_compression_type="lz4",
    consumer_max_fetch_size=4 * 1024 * 1024,  # per partition and fetch (Faust: 1 MiB, which left the router idle)
    broker_max_poll_records=5000,  # the router's batches: up to 5,000 records per fetch
    web_port=settings.web_port,
    web_bind=settings.web_host,
    web_host=settings.advertised_host,
    web_enabled=True,
    web_tables_enabled=False,
    web_router_enabled=False,
    web_graph_enabled=False,
    web_stats_enabled=False,
    web_metrics_enabled=False,
    autodiscover=True,
    origin="logmonitor",
    Worker="logmonitor.server.worker.StreamWorker",
    Table="logmonitor.pipeline.tables.cell_table.CellTable",
)
