"""How many invalid records each source partition sent to the dead-letter topic."""

from __future__ import annotations

from logmonitor.pipeline.tables.cell_table import cell_table

__all__ = ["invalid_counts"]

invalid_counts = cell_table(
    "invalid-counts", "Per source partition: {'n': invalid records} plus the applied source offset."
)
