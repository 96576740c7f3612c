"""State counted before home partitions, moved once to each service's home partition (``logmonitor move-state``).

Before home partitions a service's cells were written to whichever partition its records arrived
on, so one key (a service's profile, a window, a group) can have a copy in several partitions of
a changelog. A worker's store keeps one value per key (``memory://``), or reads the copy of the
partition it is processing (``rocksdb://``): which copy it answers with is an accident of recovery
order, and a stale copy outside the home partition can shadow the home's on every restart. This
module decides, per key, the one value its home partition keeps, from every partition's copy:

- a copy whose watermarks are at or above every other copy's, for every source partition, holds
  everything the others hold (one worker counted the service on all its partitions: each write
  was the whole cell): it is the value;
- otherwise the copies hold different records (several workers each counted one partition):
  counts add up, first seen is the earliest, last seen the latest, the latest triage decision
  holds, watermarks are the highest of each partition;

and the copies outside the home partition are deleted. Merging a copy that a merged value already
holds changes nothing (its watermarks are covered), so a move interrupted after any write and
run again ends with the same state: the value is written to the home partition first, the other
copies deleted after.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import orjson

from logmonitor.home_partition import home_partition
from logmonitor.pipeline.tables.cells import Cell, at_home
from logmonitor.pipeline.tables.service_registry import OVERFLOW
from logmonitor.pipeline.tables.service_state import MAX_HOSTS, PROFILE, RING_CHUNK, key_kind

__all__ = ["MOVED_TABLES", "Write", "moves", "service_of"]

_SEP = "\x1f"
_MARKS = ("_wm", "_cmd")  # watermarks: by source partition, by command partition
_ADMITTED = "_admitted"  # a profile's groups within the group cap (``group_cap.py``)
MOVED_TABLES = ("log-counts", "error-groups", "service-state", "group-states", "alert-state")
"""The tables with cells per service; the others' cells (dead-letter counts) belong to a partition."""


class Write(NamedTuple):
    """One changelog write of a move: ``value`` None deletes the key in ``partition``."""

    partition: int
    key: bytes  # as the changelog holds it
    value: Cell | None


def service_of(table: str, key: Any) -> str | None:
    """The service whose home partition keeps the cell at ``key`` of ``table``; None: a partition's own cell."""
    if table == "log-counts":
        service = key[0] if isinstance(key, list) and key and isinstance(key[0], str) else None
    elif not isinstance(key, str):
        service = None
    elif table in ("error-groups", "group-states"):
        service = key.rpartition(_SEP)[0] or None
    elif table == "service-state":
        kind = key_kind(key)
        service = key[2:] if kind == PROFILE else key[2:].rpartition(_SEP)[0] if kind == RING_CHUNK else None
    elif table == "alert-state":
        service = key.split(_SEP, 2)[2] if key.startswith(f"s{_SEP}") and key.count(_SEP) >= 2 else None
    else:
        service = None
    return None if not service or service.startswith(OVERFLOW) else service  # a bucket is its partition's


def _marks(cell: Cell) -> Iterator[tuple[str, str, int]]:
    for field in _MARKS:
        for partition, offset in (cell.get(field) or {}).items():
            yield field, partition, offset


def _holds(cell: Cell, other: Cell) -> bool:
    """Whether ``cell``'s watermarks are at or above ``other``'s for every partition."""
    return all((cell.get(field) or {}).get(partition, -1) >= offset for field, partition, offset in _marks(other))


def _highest_marks(cells: Iterable[Cell]) -> dict[str, dict[str, int]]:
    marks: dict[str, dict[str, int]] = {}
    for cell in cells:
        for field, partition, offset in _marks(cell):
            held = marks.setdefault(field, {})
            held[partition] = max(held.get(partition, -1), offset)
    return marks


def _latest(cells: list[Cell], field: str) -> Cell:
    return max(cells, key=lambda cell: cell.get(field) or "")


def _add_counts(cells: list[Cell]) -> Cell:
    """A window: its count per level added up."""
    merged: Cell = {}
    for cell in cells:
        for level, n in cell.items():
            if not level.startswith("_"):
                merged[level] = merged.get(level, 0) + n
    return merged


def _hosts(cells: list[Cell]) -> list[str]:
    hosts: list[str] = []
    for cell in cells:
        hosts.extend(host for host in cell.get("hosts") or () if host not in hosts)
    return hosts[:MAX_HOSTS]


def _add_group(cells: list[Cell]) -> Cell:
    """An error group: counts added, first seen the earliest, last seen the latest, the rest of the latest."""
    merged = dict(_latest(cells, "last_seen"))
    merged.update(count=sum(cell.get("count", 0) for cell in cells), hosts=_hosts(cells),
                  first_seen=min(cell["first_seen"] for cell in cells))
    if any("_created" in cell for cell in cells):
        merged["_created"] = min(cell.get("_created", float("inf")) for cell in cells)
    return merged


def _add_profile(cells: list[Cell]) -> Cell:
    """A profile: totals added, first and last seen, hosts and groups of all; its ring the one that saw most errors.

    Rings cannot be joined (their chunks have the same keys): the ring of the copy with the most
    errors is kept with its numbers (:func:`_ring_base`), the others' chunks are deleted.
    """
    merged = dict(_ring_base(cells))
    totals: dict[str, int] = {}
    admitted: dict[str, Any] = {}
    for cell in cells:
        for level, n in (cell.get("totals") or {}).items():
            totals[level] = totals.get(level, 0) + n
        for fingerprint, place in (cell.get(_ADMITTED) or {}).items():
            admitted.setdefault(fingerprint, place)
    seen = [cell for cell in cells if cell.get("first_seen")]
    merged.update(totals=totals, hosts=_hosts(cells))
    if seen:
        merged.update(first_seen=min(cell["first_seen"] for cell in seen),
                      last_seen=max(cell["last_seen"] for cell in seen))
    if admitted:
        merged[_ADMITTED] = admitted
    return merged


def _ring_base(cells: list[Cell]) -> Cell:
    return max(cells, key=lambda cell: cell.get("errors_seen", 0))


def _latest_decision(cells: list[Cell]) -> Cell:
    """A triage state or an incident: the copy with the latest status change (the latest decision holds)."""
    return max(cells, key=lambda cell: max((entry.get("at", 0) for entry in cell.get("history") or ()), default=0))


def _holding(cells: list[Cell]) -> Cell | None:
    """The copy that holds all the others (one worker wrote them all, this one last), if there is one."""
    return next((cell for cell in cells if all(_holds(cell, other) for other in cells)), None)


def _merge(table: str, key: Any, cells: list[Cell]) -> Cell:
    """One value for the copies ``cells`` of ``key`` (module docstring)."""
    if (holding := _holding(cells)) is not None:
        return dict(holding)
    if table == "log-counts":
        merged = _add_counts(cells)
    elif table == "error-groups":
        merged = _add_group(cells)
    elif table == "service-state" and key_kind(key) == PROFILE:
        merged = _add_profile(cells)
    else:  # group and incident states (ring chunks are decided with their profile: moves)
        merged = dict(_latest_decision(cells))
    merged.update(_highest_marks(cells))
    return merged


class _Ring(NamedTuple):
    """Which ring chunks of a service its value keeps: numbers ``first`` to ``next`` (excluded), from ``partition``."""

    partition: int | None  # None: any copy (its profile was one copy that held the others)
    first: int
    next: int


def _ring(chosen: Cell, by_partition: dict[int, Cell]) -> _Ring:
    """The ring a profile's value keeps (``chosen``, from the copies ``by_partition``)."""
    cells = list(by_partition.values())
    base = None
    if _holding(cells) is None:  # added up: the ring of the copy that saw most errors
        base = next(partition for partition, cell in by_partition.items() if cell is _ring_base(cells))
    return _Ring(base, chosen.get("_ring_first", 0), chosen.get("_ring_next", 0))


def _chunk_number(key: str) -> int:
    return int(key.rpartition(_SEP)[2])


def moves(table: str, copies: dict[bytes, dict[int, Cell]], partitions: int) -> list[Write]:
    """The writes that leave each service's cells of ``table`` in its home partition only.

    Args:
        table: the table's name (:data:`MOVED_TABLES`).
        copies: each key's value in each partition of the changelog that holds one (``{key: {partition: cell}}``,
            keys as the changelog's bytes).
        partitions: the changelog's (and the logs topic's) partition count.

    Returns:
        The home's values first, then the deletes of every other copy; nothing for keys already at home only.
    """
    keys = {raw: orjson.loads(raw) for raw in copies}
    rings: dict[str, _Ring] = {}  # by service, from its profile's copies
    if table == "service-state":
        for raw, by_partition in copies.items():
            key = keys[raw]
            if (service := service_of(table, key)) is not None and key_kind(key) == PROFILE and by_partition:
                chosen = _merge(table, key, list(by_partition.values()))
                rings[service] = _ring(chosen, by_partition)
    writes: list[Write] = []
    deletes: list[Write] = []
    for raw, by_partition in copies.items():
        key = keys[raw]
        service = service_of(table, key)
        if service is None or not by_partition:
            continue
        home = home_partition(service, partitions)
        if table == "service-state" and key_kind(key) == RING_CHUNK:
            cell = _ring_chunk(rings.get(service), _chunk_number(key), by_partition)
            gone = [partition for partition in by_partition if cell is None or partition != home]
        else:
            gone = [partition for partition in by_partition if partition != home]
            cell = _merge(table, key, list(by_partition.values())) if gone else None
        if cell is not None and gone:
            writes.append(Write(home, raw, at_home(cell, home)))
        deletes.extend(Write(partition, raw, None) for partition in gone)
    return writes + deletes


def _ring_chunk(ring: _Ring | None, number: int, by_partition: dict[int, Cell]) -> Cell | None:
    """The value a ring chunk keeps: None if its ring no longer holds it (or it is another ring's)."""
    if ring is not None and not ring.first <= number < ring.next:
        return None
    if ring is None or ring.partition is None:  # the copy written last (a chunk is written once, replays aside)
        cells = list(by_partition.values())
        return dict(_holding(cells) or max(cells, key=lambda cell: max(cell.get("_wm", {}).values(), default=-1)))
    return by_partition.get(ring.partition)
