"""Log counts per service and level in 1-minute tumbling windows of event time."""

from __future__ import annotations

from datetime import timedelta

from logmonitor.pipeline.tables.cell_table import cell_table
from logmonitor.pipeline.tables.event_time import record_time
from logmonitor.server.app import settings
from logmonitor.window import WINDOW_SECONDS

__all__ = ["log_counts"]

_SEGMENT = min(settings.window_retention, timedelta(hours=1))

log_counts = (
    cell_table(
        "log-counts",
        "Per service and 1-minute window: {level: count} plus the applied source offsets.",
        # Without segment.ms old windows linger in the changelog for up to 7 days (faust #385).
        extra_topic_configs={"segment.ms": str(int(_SEGMENT.total_seconds() * 1000))},
    )
    .tumbling(WINDOW_SECONDS, expires=settings.window_retention)
    .relative_to(record_time)
)
