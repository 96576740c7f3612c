"""The live feed of every record (``GET /api/v1/logs/tail``): ``application-logs`` as the router reads it.

Each message is read as the router reads it (OTLP batches expanded, ECS and OpenTelemetry shapes
normalised, ``pipeline/records.py``) and made ready as the router makes it (its place as id, other
producers' records redacted, ``pipeline/record_ready.py``) before any filter sees it: a secret never
leaves the worker, and a text filter cannot find one. Records the router would dead-letter are not shown.
"""

from __future__ import annotations

from typing import Any

from logmonitor.ingest.decoded import Rejected
from logmonitor.ingest.kafka_batches import records_of
from logmonitor.pipeline.record_ready import ready_record
from logmonitor.pipeline.records import InvalidRecord, parse_record
from logmonitor.pipeline.repartition import Source
from logmonitor.settings import Settings
from logmonitor.web.live_feed import Decoded, LiveFeed, feed_consumer

__all__ = ["records_feed", "shown_records"]


def shown_records(message: Any, now: float) -> Decoded:
    """The records a message of ``application-logs`` holds, parsed and redacted; None for each invalid one."""
    for index, value in records_of(message.value, now):
        if isinstance(value, Rejected):
            yield value, None
            continue
        try:
            record = parse_record(value, now=now)
        except InvalidRecord:
            yield value, None
            continue
        ready_record(record, message.headers, Source(message.topic, message.partition, message.offset, index))
        yield value, record


def records_feed(settings: Settings) -> LiveFeed:
    """The feed of the logs topic ``settings`` name, for at most ``LOGMONITOR_TAIL_MAX_CLIENTS`` streams."""
    return LiveFeed("records", settings.logs_topic, feed_consumer(settings), shown_records,
                    settings.tail_max_clients)
