"""What ``logmonitor --version`` and ``--help`` say about logmonitor; standard library only (a handler-only install)."""

from __future__ import annotations

import platform
from importlib import metadata

from logmonitor import __version__

__all__ = ["ABOUT", "DISTRIBUTION", "SERVER_INSTALL", "version_line"]

# The name on the package index: "logmonitor" there is an unrelated project (issue 27).
DISTRIBUTION = "logmonitor-kafka"
SERVER_INSTALL = (f"install {DISTRIBUTION} with its server extra, {DISTRIBUTION}[server] "
                  "(README: Ship logs from a service)")

ABOUT = (
    "logmonitor: real-time log and error monitoring for microservices on Apache Kafka.\n\n"
    "Services log through KafkaLogHandler (or ship OTLP, Loki push or NDJSON to `logmonitor ingest`); "
    "workers route errors, count every record exactly, group errors into issues and serve a REST API, "
    "a live dashboard and Grafana from that state. `logmonitor tail` and `logmonitor groups` drive a "
    "running worker from the terminal (LOGMONITOR_URL, LOGMONITOR_AUTH_TOKEN)."
)


def version_line() -> str:
    """``logmonitor 0.1.0 (Faust 0.15.3, Python 3.11.9)``; without the server extra, says so instead of Faust's."""
    try:
        engine = f"Faust {metadata.version('faust-streaming')}"
    except metadata.PackageNotFoundError:
        engine = "handler only: no Faust"
    return f"logmonitor {__version__} ({engine}, Python {platform.python_version()})"
