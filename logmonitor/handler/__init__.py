"""Log collection for Python services: ``KafkaLogHandler`` and ``LogMonitor`` (no Faust needed)."""

from logmonitor.handler.context import log_context
from logmonitor.handler.convenience import LogMonitor
from logmonitor.handler.handler import KafkaLogHandler
from logmonitor.handler.redaction import Redactor

__all__ = ["KafkaLogHandler", "LogMonitor", "Redactor", "log_context"]
