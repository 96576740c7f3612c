"""How many invalid records each source partition sent to the dead-letter topic."""

from __future__ import annotations

from typing import Any

import faust

from logmonitor.pipeline.tables.cell_table import cell_table

__all__ = ["define"]


def define(app: faust.App, partitions: int) -> Any:
    """The invalid-counts table of ``app``: one cell per source partition."""
    return cell_table(app, partitions, "invalid-counts",
                      "Per source partition: {'n': invalid records} plus the applied source offset.")
