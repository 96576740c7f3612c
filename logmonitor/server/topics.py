"""The project's topics as Faust channels of one app; values are raw bytes that the router parses itself."""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TopicT

from logmonitor.settings import Settings

__all__ = ["Topics", "define_topics"]


@dataclass(frozen=True)
class Topics:
    """The topics an app reads and writes through Faust (the router writes errors and dead letters by name)."""

    logs: TopicT
    alerts: TopicT
    ticks: TopicT
    commands: TopicT  # error-group status changes (``pipeline/status_commands.py``)
    repartition: TopicT  # records read off their service's home partition (``pipeline/repartition.py``)


def define_topics(app: faust.App, settings: Settings) -> Topics:
    """The channels of ``app`` for the topics ``settings`` name, co-partitioned with ``application-logs``."""
    def raw_topic(name: str) -> TopicT:
        return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                         partitions=settings.partitions)

    return Topics(logs=raw_topic(settings.logs_topic), alerts=raw_topic(settings.alerts_topic),
                  ticks=raw_topic(settings.ticks_topic), commands=raw_topic(settings.commands_topic),
                  repartition=raw_topic(settings.repartition_topic))
