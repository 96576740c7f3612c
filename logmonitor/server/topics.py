"""The project's topics as Faust channels; values are raw bytes that the router parses itself."""

from __future__ import annotations

from faust.types import TopicT

from logmonitor.server.app import app, settings

__all__ = ["alerts_topic", "dlq_topic", "errors_topic", "logs_topic", "ticks_topic"]


def _raw_topic(name: str) -> TopicT:
    return app.topic(
        name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
        partitions=settings.partitions,
    )


logs_topic = _raw_topic(settings.logs_topic)
errors_topic = _raw_topic(settings.errors_topic)
dlq_topic = _raw_topic(settings.dlq_topic)
alerts_topic = _raw_topic(settings.alerts_topic)
ticks_topic = _raw_topic(settings.ticks_topic)
