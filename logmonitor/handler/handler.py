"""``KafkaLogHandler``: a ``logging`` handler that ships records to Kafka without ever blocking."""

from __future__ import annotations

import logging
import os
import socket
import sys
import weakref
from collections import deque
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from logmonitor.handler.breadcrumbs import (
    DEFAULT_BREADCRUMB_BYTES,
    DEFAULT_BREADCRUMBS,
    MAX_BREADCRUMB_BYTES,
    MAX_BREADCRUMBS,
    Crumb,
    current_trail,
    reserve,
)
from logmonitor.handler.context import current_context
from logmonitor.handler.deployment import deployment_of
from logmonitor.handler.encoding import Captured, RecordEncoder
from logmonitor.handler.producer_config import producer_config
from logmonitor.handler.redaction import Redactor
from logmonitor.handler.sender import ProducerFactory, Sender, SenderConfig
from logmonitor.handler.spool_keeper import SpoolKeeper

__all__ = ["KafkaLogHandler"]

_LIVE_HANDLERS: weakref.WeakSet[KafkaLogHandler] = weakref.WeakSet()
_ABANDONED_AFTER_FORK: list[object] = []  # the parent's librdkafka objects must not be destroyed in a child
_OWN_LOGGERS = ("logmonitor.handler",)
QUEUE_LIMIT = 100_000  # records waiting for the sender thread; beyond it emit() drops rather than block


def _default_spool_dir(service: str) -> Path:
    base = os.environ.get("LOGMONITOR_SPOOL_DIR") or Path.home() / ".cache" / "logmonitor" / "spool"
    return Path(base) / service


class KafkaLogHandler(logging.Handler):
    """Sends each record as the JSON of DESIGN section 2 to ``application-logs``, keyed by service.

    ``emit()`` only appends to an in-memory queue; a background thread redacts, serializes
    and produces (idempotent, acks=all, compressed batches). While Kafka is away records
    wait in memory (up to ``memory_records``), then in a disk spool (up to ``spool_bytes``)
    that is delivered in order when Kafka returns, also by the next process after a restart.
    A spool that cannot be used (path not a directory, disk full, I/O error, ...) never stops
    delivery: records then wait in memory only, ``spool_state`` says why, and the disk is
    tried again every ``spool_retry_interval`` seconds; unreadable spool files are renamed
    ``<name>.corrupt-<UTC time>`` and left for an operator.

    Args:
        bootstrap_servers: Kafka brokers [``$KAFKA_BOOTSTRAP_SERVERS`` or ``localhost:9092``].
        service: the service name and Kafka key [``$SERVICE_NAME`` or the program name].
        host: the host name [``$HOSTNAME`` or ``socket.gethostname()``].
        topic: [``$LOGMONITOR_TOPIC_LOGS`` or ``application-logs``].
        release: the version deployed, on every record [``$LOGMONITOR_RELEASE``, else ``service.version``
            of ``$OTEL_RESOURCE_ATTRIBUTES``, else none].
        environment: where it runs (``production``, ``staging`` ...) [``$LOGMONITOR_ENVIRONMENT``, else
            ``deployment.environment.name`` or ``deployment.environment`` of ``$OTEL_RESOURCE_ATTRIBUTES``,
            else none].
        redact: True (default), False, or a configured ``Redactor``.
        memory_records: records the producer may hold in memory before new ones go to disk
            (0: every record passes through the spool first).
        spool_dir: where the spool lives [``$LOGMONITOR_SPOOL_DIR/<service>`` or
            ``~/.cache/logmonitor/spool/<service>``].
        spool_bytes: the disk bound [``$LOGMONITOR_SPOOL_BYTES`` or 256 MiB], also the memory bound while
            the disk cannot be used.
        spool_retry_interval: seconds between attempts to use the disk again while it cannot be used.
        close_timeout: seconds ``close()`` waits for delivery before spooling the rest.
        producer_options: extra librdkafka settings (override the defaults).
        level: the handler's level: the least severe record it takes, to ship or to keep as a breadcrumb.
        ship_level: the least severe record it ships [None: every record it takes, as before there were
            breadcrumbs]; records it takes below it only become breadcrumbs, e.g. ``level=DEBUG,
            ship_level=INFO`` ships INFO and above and gives errors their DEBUG lines (the logger's own
            level must let them through too). Like ``level`` and ``event_level`` of Sentry's logging integration.
        breadcrumbs: how many of the latest records of the same context (``log_context`` block, else
            asyncio task, else thread) each ERROR/CRITICAL record carries [30; 0: none; at most 100].
        breadcrumb_bytes: the most bytes an error's breadcrumbs take as JSON [16 KiB; at most 64 KiB]; the
            oldest are left out first.
        producer_factory: builds the producer from its librdkafka settings [confluent_kafka's
            ``Producer``]; tests pass a fake.
    """

    def __init__(self, bootstrap_servers: str | None = None, service: str | None = None, host: str | None = None,
                 topic: str | None = None, *, release: str | None = None, environment: str | None = None,
                 redact: bool | Redactor = True, memory_records: int = 100_000,
                 spool_dir: str | Path | None = None, spool_bytes: int | None = None,
                 spool_retry_interval: float = 60.0, close_timeout: float = 5.0,
                 producer_options: dict[str, Any] | None = None,
                 level: int | str = logging.NOTSET, ship_level: int | str | None = None,
                 breadcrumbs: int = DEFAULT_BREADCRUMBS, breadcrumb_bytes: int = DEFAULT_BREADCRUMB_BYTES,
                 producer_factory: ProducerFactory | None = None) -> None:
        super().__init__(level)
        self.ship_level = logging.NOTSET if ship_level is None else _level_number(ship_level)
        self.breadcrumbs = _bounded(breadcrumbs, "breadcrumbs", 0, MAX_BREADCRUMBS)
        self.breadcrumb_bytes = _bounded(breadcrumb_bytes, "breadcrumb_bytes", 2, MAX_BREADCRUMB_BYTES)
        reserve(self.breadcrumbs)
        self.service = service or os.environ.get("SERVICE_NAME") or Path(sys.argv[0] or "python").stem
        self.host = host or os.environ.get("HOSTNAME") or socket.gethostname()
        self.topic = topic or os.environ.get("LOGMONITOR_TOPIC_LOGS") or "application-logs"
        self.bootstrap_servers = bootstrap_servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "localhost:9092"
        self.deployment = deployment_of(release, environment, os.environ)  # not .release: Handler.release() unlocks
        self.redactor = redact if isinstance(redact, Redactor) else Redactor(enabled=redact)
        self.memory_records = memory_records
        self.spool_dir = Path(spool_dir) if spool_dir else _default_spool_dir(self.service)
        self.spool_bytes = spool_bytes or int(os.environ.get("LOGMONITOR_SPOOL_BYTES", 256 * 1024 * 1024))
        self.spool_retry_interval = spool_retry_interval
        self.close_timeout = close_timeout
        self._producer_options = producer_options or {}
        self._producer_factory: ProducerFactory = Producer if producer_factory is None else producer_factory
        self.dropped_in_memory = 0
        self._start()
        _LIVE_HANDLERS.add(self)

    def _start(self) -> None:
        """(Re)create the queue and the sender thread for the current process."""
        self._pid = os.getpid()
        self._queue: deque[Captured] = deque()
        self._closed = False
        self._sender = Sender(
            SenderConfig(
                topic=self.topic,
                producer=producer_config(self.bootstrap_servers, self._producer_options),
                memory_records=self.memory_records,
            ),
            self._queue,
            RecordEncoder(self.service, self.host, self.redactor, *self.deployment, self.breadcrumb_bytes),
            SpoolKeeper(self.spool_dir, self.spool_bytes, self.spool_retry_interval),
            self._producer_factory,
        )
        self._sender.start()

    @property
    def delivered(self) -> int:
        """Records Kafka has acknowledged so far (this process)."""
        return self._sender.delivered

    @property
    def spooled(self) -> int:
        """Records waiting in the spool right now (on disk, or in memory while the disk cannot be used)."""
        return self._sender.spool.count

    @property
    def spool_state(self) -> str:
        """``"ok"`` (on disk), ``"memory-only: <reason>"``, ``"opening"`` or ``"closed"``."""
        return self._sender.spool.state

    @property
    def spool_failures(self) -> int:
        """Times the disk spool could not be used (failed opens, failed writes or reads)."""
        return self._sender.spool.failures

    @property
    def spool_quarantined(self) -> list[Path]:
        """Unreadable spool files this process moved aside, under their new names."""
        return [quarantined.path for quarantined in self._sender.spool.quarantined]

    @property
    def internal_errors(self) -> int:
        """Unexpected errors the sender thread survived."""
        return self._sender.internal_errors

    @property
    def dropped(self) -> dict[str, int]:
        """Records dropped because both bounds were reached, per level."""
        counts = dict(self._sender.spool.dropped)
        if self.dropped_in_memory:
            counts["memory"] = self.dropped_in_memory
        return counts

    def emit(self, record: logging.LogRecord) -> None:
        """Queue ``record`` (below ``ship_level``: only keep it as a breadcrumb); never blocks nor raises."""
        try:
            if self._closed or record.name.startswith(_OWN_LOGGERS):
                return
            shipped = record.levelno >= self.ship_level
            if shipped and len(self._queue) >= QUEUE_LIMIT:
                self.dropped_in_memory += 1  # the sender is stuck even on disk; do not block the caller
                return
            message = record.getMessage()
            crumbs: tuple[Crumb, ...] = ()
            if self.breadcrumbs and (trail := current_trail()) is not None:
                if shipped and record.levelno >= logging.ERROR:
                    crumbs = trail.newest(self.breadcrumbs)
                trail.add(record, message)
            if shipped:
                self._queue.append(Captured(record, message, current_context(), crumbs))
        except Exception:
            self.handleError(record)

    def flush(self, timeout: float = 5.0) -> None:
        """Wait up to ``timeout`` seconds until every queued record has been handed to Kafka or the spool."""
        self._sender.wait_idle(timeout)

    def close(self) -> None:
        """Deliver within ``close_timeout``; what is not delivered by then stays in the spool."""
        if not self._closed and self._pid == os.getpid():
            self._closed = True
            self._sender.stop(self.close_timeout)
        _LIVE_HANDLERS.discard(self)
        super().close()

    def _after_fork_in_child(self) -> None:
        _ABANDONED_AFTER_FORK.append(self._sender)
        self._sender.release_after_fork()
        self._start()


def _level_number(level: int | str) -> int:
    """The number of a level given as a number or a name (``"INFO"``), as ``Handler.setLevel`` takes it."""
    number = level if isinstance(level, int) else logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"ship_level={level!r} is not a logging level")
    return number


def _bounded(value: int, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name}={value!r}: it must be an integer from {low} to {high}")
    return value


def _restart_handlers_in_child() -> None:
    for handler in list(_LIVE_HANDLERS):
        handler._after_fork_in_child()


os.register_at_fork(after_in_child=_restart_handlers_in_child)
