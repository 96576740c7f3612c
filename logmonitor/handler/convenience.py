"""The original design's one-liner: ``LogMonitor("usermanagement").logger``."""

from __future__ import annotations

import logging
import sys
from typing import Any

from logmonitor.handler.handler import KafkaLogHandler

__all__ = ["LogMonitor"]

_CONSOLE_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


class LogMonitor:
    """A logger named after the service that writes to the console and to Kafka.

    It behaves the same whether Kafka is up or not: the Kafka side never blocks or raises.

    Args:
        service: the service name (the Kafka key and the ``service`` field).
        level: the logger's level.
        console: also write human-readable lines to stderr.
        **handler_options: passed to ``KafkaLogHandler``.
    """

    def __init__(self, service: str, *, level: int = logging.INFO, console: bool = True,
                 **handler_options: Any) -> None:
        self.handler = KafkaLogHandler(service=service, **handler_options)
        self.logger = logging.getLogger(service)
        self.logger.setLevel(level)
        self.logger.addHandler(self.handler)
        if console:
            stream = logging.StreamHandler(sys.stderr)
            stream.setFormatter(logging.Formatter(_CONSOLE_FORMAT))
            self.logger.addHandler(stream)

    def close(self) -> None:
        """Flush to Kafka (spooling what cannot be sent) and detach the handlers."""
        for handler in list(self.logger.handlers):
            self.logger.removeHandler(handler)
            handler.close()
