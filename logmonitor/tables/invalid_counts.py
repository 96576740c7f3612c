"""How many invalid records each source partition sent to the dead-letter topic."""

from __future__ import annotations

from logmonitor.app import app, settings

__all__ = ["invalid_counts"]

invalid_counts = app.Table(
    "invalid-counts",
    default=dict,
    partitions=settings.partitions,
    help="Per source partition: {'n': invalid records} plus the applied source offset.",
)
