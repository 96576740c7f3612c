"""Log counts per service and level in 1-minute tumbling windows of event time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import faust

from logmonitor.pipeline.tables.cell_table import cell_table
from logmonitor.pipeline.tables.event_time import record_time
from logmonitor.window import WINDOW_SECONDS

__all__ = ["define"]


def define(app: faust.App, partitions: int, retention: timedelta) -> Any:
    """The windowed log-counts table of ``app``, its windows kept for ``retention``."""
    segment = min(retention, timedelta(hours=1))
    return (
        cell_table(
            app, partitions, "log-counts",
            "Per service and 1-minute window: {level: count} plus the applied source offsets.",
            # Without segment.ms old windows linger in the changelog for up to 7 days (faust #385).
            extra_topic_configs={"segment.ms": str(int(segment.total_seconds() * 1000))},
        )
        .tumbling(WINDOW_SECONDS, expires=retention)
        .relative_to(record_time)
    )
