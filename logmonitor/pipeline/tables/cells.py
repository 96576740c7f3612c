"""Idempotent table cells: each value carries the source offset it last applied, per partition.

A cell is only ever updated while processing a record of one source partition, in offset
order. Storing ``{partition: offset}`` inside the cell makes each changelog write
self-describing, so records re-delivered after a crash (at-least-once) are recognised and
skipped: counts stay exact without Kafka transactions.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Cell", "at_home", "home_of", "mark_applied", "source_partitions", "watermark"]

Cell = dict[str, Any]
_WATERMARK = "_wm"  # the cell field holding {partition: offset}
_HOME = "_home"  # the cell field holding its home partition, once records forwarded from elsewhere are in it


def watermark(cell: Cell | None, partition: int) -> int:
    """The last offset of ``partition`` applied to ``cell`` (-1: none); later ones are new to it."""
    if not cell:
        return -1
    last: int = cell.get(_WATERMARK, {}).get(str(partition), -1)
    return last


def mark_applied(cell: Cell, partition: int, offset: int, home: int | None = None) -> Cell:
    """Record, in place, that ``cell`` now includes the record at ``partition``/``offset``; returns the cell.

    ``home``: the partition the cell belongs to, when the record was forwarded there from ``partition``
    (``pipeline/repartition.py``). The cell must be the caller's own (``aggregation.Changes`` copies
    table values first).
    """
    cell.setdefault(_WATERMARK, {})[str(partition)] = offset
    if home is not None and home != partition:
        cell[_HOME] = home
    return cell


def at_home(cell: Cell, home: int) -> Cell:
    """Record, in place, that ``cell`` belongs to partition ``home`` whatever partitions' records it holds."""
    cell[_HOME] = home
    return cell


def home_of(cell: Cell) -> int | None:
    """The partition whose owner writes and answers for ``cell`` (None: no record applied yet).

    Its home, if records forwarded from other partitions are in it; else the one partition whose
    records it holds (the lowest, should a cell written before home partitions span several).
    """
    home: int | None = cell.get(_HOME)
    if home is None and (partitions := source_partitions(cell)):
        return min(partitions)
    return home


def source_partitions(cell: Cell) -> set[int]:
    """The source partitions whose records this cell holds."""
    return {int(p) for p in cell.get(_WATERMARK, {})}
