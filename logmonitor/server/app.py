"""The app factory: ``create_app(settings)`` makes the Faust app with its tables, agents, timers and routes.

Nothing is built at import: ``logmonitor worker`` calls the factory once, after the settings
are read and checked (``commands/cli.py``); ``server/faust_app.py`` does the same for Faust's own CLI.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any, cast

import faust

from logmonitor.alerts.notify import add_notifications
from logmonitor.alerts.rules import load_rules
from logmonitor.engine.checked_producer import CheckedProducer
from logmonitor.engine.producer_buffer import flush_up_to_now
from logmonitor.engine.transport import BatchingApp
from logmonitor.engine.web_shutdown import bound_request_shutdown
from logmonitor.pipeline.aggregation import Bounds
from logmonitor.pipeline.router import Router
from logmonitor.pipeline.service_labels import ServiceLabels
from logmonitor.pipeline.status_commands import add_status_commands
from logmonitor.pipeline.tables.all_tables import define_tables
from logmonitor.read.answer_cache import AnswerCache
from logmonitor.read.group_index import GroupIndexes
from logmonitor.server.context import AppContext, context_of
from logmonitor.server.housekeeping import add_housekeeping
from logmonitor.server.topic_admin import MAX_MESSAGE_BYTES, changelog_specs, ensure_topics
from logmonitor.server.topics import define_topics
from logmonitor.settings import KafkaSecurity, Settings
from logmonitor.web.live_errors import errors_feed
from logmonitor.web.live_records import records_feed
from logmonitor.web.middleware import add_security_headers, middlewares
from logmonitor.web.routes import add_routes

__all__ = ["IN_FLIGHT_GRACE_SECONDS", "LogMonitorApp", "create_app"]

IN_FLIGHT_GRACE_SECONDS = 2.0  # how long a stopping worker lets requests in flight finish


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

    context: AppContext  # given by create_app

    async def on_first_start(self) -> None:
        """Create missing topics (partitions, retention) and table changelogs, then start as Faust does."""
        settings = self.context.settings
        self.producer.buffer.max_messages = 5000
        flush_up_to_now(self.producer.buffer)
        changelogs = [table.changelog_topic.get_topic_name() for table in self.tables.values()]
        cast(CheckedProducer, self.producer).deliveries.guard(
            retried=(settings.errors_topic, settings.dlq_topic, settings.repartition_topic), stopping=changelogs)

        await ensure_topics(settings, changelog_specs(self.tables.values(), settings))
        await super().on_first_start()

    def on_webserver_init(self, web: Any) -> None:
        """Refuse an API open to the network without a token; put authentication, CORS and security headers in front.

        When the worker stops, open live streams end at once and other requests get
        ``IN_FLIGHT_GRACE_SECONDS`` to finish, so that nothing a client holds open delays the exit.

        ``logmonitor worker`` refuses earlier, with the same line; this catches every other way to
        the web server (``faust -A logmonitor.server.faust_app worker``, options before the command), before it binds.
        """
        settings = context_of(self).settings
        if refusal := dataclasses.replace(settings, web_host=self.conf.web_bind).exposure_refusal():
            print(f"logmonitor: {refusal}", file=sys.stderr, flush=True)
            os._exit(2)  # not a crash: nothing has started that needs stopping, and no traceback wall
        web.web_app.middlewares.extend(middlewares(settings))
        web.web_app.on_response_prepare.append(add_security_headers)

        async def end_live_streams(_: Any) -> None:
            context_of(self).errors_feed.close()
            context_of(self).records_feed.close()

        web.web_app.on_shutdown.append(end_live_streams)
        bound_request_shutdown(web, IN_FLIGHT_GRACE_SECONDS)


def _new_app(settings: Settings) -> LogMonitorApp:
    return LogMonitorApp(
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
        autodiscover=False,
        origin="logmonitor",
        Worker="logmonitor.server.worker.StreamWorker",
        Table="logmonitor.pipeline.tables.cell_table.CellTable",
    )


def create_app(settings: Settings) -> LogMonitorApp:
    """The logmonitor app for ``settings``: tables, the router, housekeeping, notifications and the web routes.

    Raises:
        ConfigError: the alert rules file is unusable.
    """
    app = _new_app(settings)
    topics = define_topics(app, settings)
    context = AppContext(
        app=app, settings=settings, alert_config=load_rules(settings.alert_rules),
        tables=define_tables(app, settings), topics=topics, bounds=Bounds.of(settings),
        service_labels=ServiceLabels(settings.max_services), errors_feed=errors_feed(settings),
        records_feed=records_feed(settings), answers=AnswerCache(ttl=1.0), group_indexes=GroupIndexes(),
    )
    app.context = context
    router = Router(app, context.tables, context.bounds, context.service_labels,
                    errors_topic=settings.errors_topic, dead_letters_topic=settings.dlq_topic,
                    repartition_topic=settings.repartition_topic, partitions=settings.partitions)
    app.batch_handler(topics.logs)(router)
    app.batch_handler(topics.repartition)(router)
    add_status_commands(app, topics.commands, context.tables)
    add_housekeeping(app, context)
    add_notifications(app, topics.alerts, context.alert_config)
    add_routes(app)
    return app
