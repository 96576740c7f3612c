"""Apply records to the tables, idempotently, writing each changed cell once per batch.

The router applies a batch of one source partition's records to a :class:`Changes` overlay
(reads go through to the tables, writes stay in the overlay), then :meth:`Changes.write`
stores each changed cell once: one changelog record per cell and batch instead of one per
cell and record. Each cell carries the offset it has applied per source partition (see
``tables/cells.py``), so a batch replayed after a crash is recognised record by record.

The cells are those of the services whose home partition (``logmonitor/home_partition.py``) the
batch's partition is. Their records come from that partition itself, by offset, or forwarded
from another source partition through the repartition topic, by position (``repartition.py``):
either way a cell compares a record with the last one it applied from the same source partition.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from logmonitor.levels import ERROR_LEVELS
from logmonitor.pipeline.fingerprint import GROUPING_VERSION, Candidate
from logmonitor.pipeline.tables import error_ring, group_cap
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.cells import Cell, mark_applied, watermark
from logmonitor.pipeline.tables.error_groups import group_key
from logmonitor.pipeline.tables.event_time import current_record_epoch
from logmonitor.pipeline.tables.group_states import state_key
from logmonitor.pipeline.tables.service_registry import admits, announce_overflow, bucket_name, partition_cap
from logmonitor.pipeline.tables.service_state import MAX_HOSTS, profile_key, registry_key, releases_key
from logmonitor.settings import Settings
from logmonitor.triage.releases import ReleaseTally, note_group_release
from logmonitor.triage.status import Event, apply_events
from logmonitor.window import WINDOW_SECONDS

__all__ = ["Bounds", "Changes"]

@dataclass(frozen=True)
class Bounds:
    """What records may grow: services per source partition (of ``max_services``), groups per service, ring bytes."""

    max_services: int
    service_cap: int
    group_cap: int
    ring_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> Bounds:
        """The bounds ``settings`` configure; the service cap is spread over the source partitions."""
        return cls(settings.max_services, partition_cap(settings.max_services, settings.partitions),
                   settings.max_groups_per_service, settings.ring_bytes)


class _Windows:
    """Cells of the windowed log counts by ``(service, window start)``."""

    def __init__(self, log_counts: Any) -> None:
        self._log_counts = log_counts

    def read(self, key: tuple[str, float]) -> Cell | None:
        """The stored cell of a window."""
        current_record_epoch.set(key[1])  # the window's start: any time inside it picks it
        value: Cell = self._log_counts[key[0]].value()
        return value

    def write(self, key: tuple[str, float], cell: Cell) -> None:
        """Store the cell of a window."""
        current_record_epoch.set(key[1])
        self._log_counts[key[0]] = cell


class _Profiles:
    """Service profiles, releases and partition registries, by service name and partition, in ``service_state``."""

    def __init__(self, service_state: MutableMapping[str, Cell]) -> None:
        self.state = service_state

    def read(self, service: str) -> Cell | None:
        """The stored profile of ``service``."""
        return self.state.get(profile_key(service))

    def write(self, service: str, cell: Cell) -> None:
        """Store the profile of ``service``."""
        self.state[profile_key(service)] = cell

    def read_releases(self, service: str) -> Cell | None:
        """The stored releases of ``service``."""
        return self.state.get(releases_key(service))

    def write_releases(self, service: str, cell: Cell) -> None:
        """Store the releases of ``service``."""
        self.state[releases_key(service)] = cell

    def read_registry(self, partition: int) -> Cell | None:
        """The stored registry of ``partition``."""
        return self.state.get(registry_key(partition))

    def write_registry(self, partition: int, cell: Cell) -> None:
        """Store the registry of ``partition``."""
        self.state[registry_key(partition)] = cell


class _CellCopy:
    """A cell one batch changes: its own copy, the offset the stored cell has applied, the last one applied since."""

    __slots__ = ("after", "cell", "last")

    def __init__(self, stored: Cell | None, partition: int, new: Callable[[], Cell]) -> None:
        self.cell: Cell = new() if not stored else {
            name: value.copy() if isinstance(value, (dict, list)) else value for name, value in stored.items()
        }
        self.after = watermark(stored, partition)
        self.last: int | None = None


class _TableOverlay:
    """The open cells of one table: read once, changed in place, written by :meth:`write`."""

    def __init__(self, read: Callable[[Any], Cell | None], write: Callable[[Any, Cell], None], partition: int,
                 home: int, new: Callable[[Any], Cell] = lambda _key: {}) -> None:
        self._read, self._write, self._partition, self._home, self._new = read, write, partition, home, new
        self.open: dict[Any, _CellCopy] = {}

    def get(self, key: Any, new: Callable[[Any], Cell] | None = None) -> _CellCopy:
        """The open cell at ``key``; ``new(key)`` (or the table's own) if the table has none."""
        cell = self.open.get(key)
        if cell is None:
            make = new or self._new
            cell = self.open[key] = _CellCopy(self._read(key), self._partition, lambda: make(key))
        return cell

    def write(self) -> None:
        """Store every cell that applied a record, with its watermark."""
        for key, cell in self.open.items():
            if cell.last is not None:
                self._write(key, mark_applied(cell.cell, self._partition, cell.last, self._home))
        self.open.clear()


class _ServiceCells:
    """One service's cells a batch has open: its profile, and the window of its latest record (most share it)."""

    __slots__ = ("levels", "profile", "window", "window_end", "window_start")
    window: _CellCopy  # set by the first record (its window is none of the empty range below)

    def __init__(self, profile: _CellCopy) -> None:
        self.profile = profile
        self.levels: dict[str, int] = {}  # the batch's records by level, replayed ones too (for the metrics)
        self.window_start, self.window_end = math.inf, -math.inf


def _new_group(record: dict[str, Any]) -> Cell:
    """The cell of the group ``record`` (an error, grouped) is the first event of."""
    fingerprint = record["fingerprint"]
    exception = record.get("exception") or {}
    return {
        "service": record["service"], "fingerprint": fingerprint, "count": 0, "first_seen": record["timestamp"],
        "title": record["title"],
        "exception_type": None if fingerprint == group_cap.OVERFLOW_FINGERPRINT else exception.get("type"),
        "grouping_version": GROUPING_VERSION, "_created": time.time(),
    }


_OLDEST_GROUPING = "_oldest_grouping"  # the profile field: no group of the service is of an older grouping version


def _new_profile(service: str) -> Cell:
    # A service without a profile has no groups (expiry removes them together): all its groups will be the current
    # version's. Profiles made before this field may have groups of any version.
    return {"name": service, "first_seen": None, "last_seen": None, "hosts": [], "totals": {}, "errors_seen": 0,
            _OLDEST_GROUPING: GROUPING_VERSION}


class Changes:
    """The cells one batch of one source partition changes; each written once by :meth:`write`.

    A cell is copied when the batch first touches it (table values are never changed in
    place); a record changes it only if its offset is past the one the stored cell applied.

    Args:
        partition: the records' source partition, whose offsets (or positions) they carry.
        tables: the tables the cells are read from and written to.
        bounds: what the records may grow.
        home: the partition whose services' cells these are (the registry, bucket and dead-letter
            count are its): ``partition`` itself, or, for records forwarded from there, the partition
            of the repartition topic that they were read from.
    """

    def __init__(self, partition: int, tables: Tables, bounds: Bounds, home: int | None = None) -> None:
        self.partition, self._bounds, self._tables = partition, bounds, tables
        self.home = partition if home is None else home
        # The registry lists the services it admitted from its own partition by offset (as ever), from others by place.
        self._admitted_from = None if self.home == partition else partition
        self._state = _Profiles(tables.service_state)
        home = self.home  # the registry is one cell, the home partition's
        self._registry = _TableOverlay(self._state.read_registry, self._state.write_registry, partition, home)
        # The services listed in the registry: one admitted before, at any offset, admits every later record.
        self._registry_cell = self._registry.get(home)
        self._listed: dict[str, Any] = self._registry_cell.cell.setdefault("services", {})
        windows = _Windows(tables.log_counts)
        self._windows = _TableOverlay(windows.read, windows.write, partition, home)
        groups = tables.error_groups
        self._groups = _TableOverlay(groups.get, groups.__setitem__, partition, home)
        self._grouped: dict[str, set[str]] = {}  # the fingerprints whose groups this batch changes, by service
        invalid = tables.invalid_counts
        self._invalid = _TableOverlay(invalid.get, invalid.__setitem__, partition, home, lambda _key: {"n": 0})
        self._new_errors: dict[str, list[error_ring.NewError]] = {}  # by service, in order
        self._profiles = _TableOverlay(self._state.read, self._state.write, partition, home, _new_profile)
        self._releases = _TableOverlay(self._state.read_releases, self._state.write_releases, partition, home,
                                       lambda _service: {"releases": {}})
        self._release_tally = ReleaseTally()
        self._services: dict[str, _ServiceCells] = {}
        self._group_states = tables.group_states
        self._group_events: dict[str, list[Event]] = {}  # by group key: the batch's errors, for triage

    def counted_as(self, service: str, offset: int) -> str:
        """The service the record at ``offset`` is counted under: its own, or beyond the cap this partition's bucket."""
        registry = self._registry_cell
        applied = registry.after
        if offset > applied:
            registry.last = offset  # the registry records every offset it has decided for
            if service in self._listed:  # listed: admitted from earlier records (most of them, at once)
                return service
        if admits(registry.cell, applied, service, offset, self._bounds.service_cap, self._admitted_from):
            return service
        if offset > applied:  # a replayed record was counted and announced the first time
            announce_overflow(service, self._bounds.max_services, self._bounds.service_cap)
        return bucket_name(self.home)

    def oldest_grouping(self, service: str) -> int:
        """The oldest grouping version whose groups ``service`` may have (1: any)."""
        oldest: int = self._profiles.get(service).cell.get(_OLDEST_GROUPING, 1)
        return oldest

    def group_of(self, service: str, candidates: Sequence[Candidate]) -> str:
        """The fingerprint of the first candidate (oldest grouping version first) with a group, else the last one's.

        Only the current version (the last candidate) makes groups, so whether an older
        version's group exists is the same when a batch is replayed: the choice is too.
        """
        for candidate in candidates[:-1]:
            key = group_key(service, candidate.fingerprint)
            if key in self._groups.open or self._tables.error_groups.get(key):
                return candidate.fingerprint
        return candidates[-1].fingerprint

    def grouped_as(self, service: str, fingerprint: str, offset: int) -> str:
        """The fingerprint the error at ``offset`` is counted under: its own, or beyond the group cap ``_overflow``."""
        profile = self._profiles.get(service)
        counted = group_cap.grouped_as(profile.cell, profile.after, fingerprint, offset, self._bounds.group_cap,
                                       self.partition)
        if counted != fingerprint and offset > profile.after:  # a replayed error was announced the first time
            group_cap.announce_overflow(service, fingerprint, self._bounds.group_cap)
        return counted

    def apply_record(self, record: dict[str, Any], offset: int, size: int) -> None:
        """Count a valid record (``size`` bytes) everywhere it belongs; skip cells that already hold it."""
        service, level, epoch = record["service"], record["level"], record["epoch"]
        cells = self._services.get(service) or self._open_service(service)
        levels = cells.levels
        levels[level] = levels.get(level, 0) + 1
        if not cells.window_start <= epoch < cells.window_end:
            start = epoch - epoch % WINDOW_SECONDS
            cells.window = self._windows.get((service, start))
            cells.window_start, cells.window_end = start, start + WINDOW_SECONDS
        window = cells.window
        if offset > window.after:
            counts = window.cell
            counts[level] = counts.get(level, 0) + 1
            window.last = offset
        error = level in ERROR_LEVELS
        if error:
            self._update_group(record, offset)
        profile = cells.profile
        if offset > profile.after:
            self._update_profile(profile, record, offset, size, error)
        if (release := record.get("release")) is not None:
            releases = self._releases.get(service)
            if offset > releases.after:
                self._release_tally.count(service, release, record["timestamp"], error)
                releases.last = offset

    def routed(self) -> Iterator[tuple[str, str, int]]:
        """How many records of each service and level the batch applied so far, replayed ones too."""
        for service, cells in self._services.items():
            for level, count in cells.levels.items():
                yield service, level, count

    def _open_service(self, service: str) -> _ServiceCells:
        cells = self._services[service] = _ServiceCells(self._profiles.get(service))
        return cells

    def apply_invalid(self, offset: int) -> None:
        """Count one record sent to the dead-letter topic."""
        count = self._invalid_count()
        if offset > count.after:
            count.cell["n"] += 1
            count.last = offset

    def write(self) -> None:
        """Store every changed cell: the registry first, service profiles last (after the ring chunks they count).

        Must run in the context of an event of this batch's partition (the tables write
        their changelog to the event's partition).
        """
        self._services.clear()
        self._registry.write()
        self._windows.write()
        self._groups.write()
        self._write_group_states()
        self._invalid.write()
        self._release_tally.add_to(lambda service: self._releases.open[service].cell)
        self._releases.write()
        for service, errors in self._new_errors.items():
            error_ring.append(self._state.state, self._profiles.open[service].cell, errors, self.partition,
                              self._bounds.ring_bytes, self.home)
        self._new_errors.clear()
        routed_at = time.time()  # for expiry: a service being counted is not unseen, whatever its event times
        for service, profile in self._profiles.open.items():
            profile.cell["_routed_at"] = routed_at
            group_cap.still_admitted(profile.cell, self._state.read(service), profile.after,
                                     self._grouped.get(service, ()), self.partition)
        self._grouped.clear()
        self._profiles.write()

    def _write_group_states(self) -> None:
        """Apply the batch's errors to their groups' triage states, each read now (see below) and written once.

        Read here, not when the batch began: the status-command agent may have changed a state while
        the router awaited between applying the batch and writing it, and there is no await from
        this read to the write. Events the stored state already applied are skipped by it.
        """
        now = time.time()
        for key, events in self._group_events.items():
            applied = apply_events(self._group_states.get(key), events, now)
            if applied.changed:
                self._group_states[key] = applied.state
        self._group_events.clear()

    def _invalid_count(self) -> _CellCopy:
        return self._invalid.get(str(self.home))

    def _update_group(self, record: dict[str, Any], offset: int) -> None:
        service, fingerprint = record["service"], record["fingerprint"]
        group = self._groups.get(group_key(service, fingerprint), lambda _key: _new_group(record))
        # Whatever the group cell holds: its triage state is another table's cell, which a crash may have left behind.
        self._group_events.setdefault(state_key(service, fingerprint), []).append(
            Event(self.partition, offset, record["epoch"], record.get("release")))
        if offset <= group.after:
            return
        self._grouped.setdefault(service, set()).add(fingerprint)
        cell, timestamp = group.cell, record["timestamp"]
        cell["count"] += 1
        if timestamp < cell["first_seen"]:
            cell["first_seen"] = timestamp
        if timestamp > cell.get("last_seen", ""):
            cell["last_seen"] = timestamp
        cell["level"], cell["logger"], cell["last_id"] = record["level"], record.get("logger"), record["id"]
        note_group_release(cell, record.get("release"), record.get("environment"))
        host, hosts = record.get("host"), cell.setdefault("hosts", [])
        if host and host not in hosts and len(hosts) < MAX_HOSTS:
            hosts.append(host)
        group.last = offset

    def _update_profile(self, profile: _CellCopy, record: dict[str, Any], offset: int, size: int, error: bool) -> None:
        cell, level, timestamp = profile.cell, record["level"], record["timestamp"]
        if error:
            entry = {**record, "seq": cell["errors_seen"]}
            self._new_errors.setdefault(record["service"], []).append(error_ring.NewError(entry, size, offset))
            cell["errors_seen"] += 1
        totals = cell["totals"]
        totals[level] = totals.get(level, 0) + 1
        first, last = cell["first_seen"], cell["last_seen"]
        if first is None or timestamp < first:
            cell["first_seen"] = timestamp
        if last is None or timestamp > last:
            cell["last_seen"] = timestamp
        if (host := record.get("host")) and host not in (hosts := cell["hosts"]) and len(hosts) < MAX_HOSTS:
            hosts.append(host)
        profile.last = offset
