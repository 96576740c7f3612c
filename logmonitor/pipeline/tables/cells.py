"""Idempotent table cells: each value carries the source offset it last applied, per partition.

A cell is only ever updated while processing a record of one source partition, in offset
order. Storing ``{partition: offset}`` inside the cell makes each changelog write
self-describing, so records re-delivered after a crash (at-least-once) are recognised and
skipped: counts stay exact without Kafka transactions.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Cell", "mark_applied", "source_partitions", "watermark"]

Cell = dict[str, Any]
_WATERMARK = "_wm"  # the cell field holding {partition: offset}


def watermark(cell: Cell | None, partition: int) -> int:
    """The last offset of ``partition`` applied to ``cell`` (-1: none); later ones are new to it."""
    if not cell:
        return -1
    last: int = cell.get(_WATERMARK, {}).get(str(partition), -1)
    return last


def mark_applied(cell: Cell, partition: int, offset: int) -> Cell:
    """Record, in place, that ``cell`` now includes the record at ``partition``/``offset``; returns the cell.

    The cell must be the caller's own (``aggregation.Changes`` copies table values first).
    """
    cell.setdefault(_WATERMARK, {})[str(partition)] = offset
    return cell


def source_partitions(cell: Cell) -> set[int]:
    """The source partitions whose records this cell holds."""
    return {int(p) for p in cell.get(_WATERMARK, {})}
