"""Retention of table state: old windows of ``log_counts`` and error groups unseen for long.

Windows: expired for real, also those recovered from the changelog.

Faust expires only windows it saw being written in this process, by wall clock (faust
#385, and ``_del_old_keys`` never matches recovered keys). This sweep drops every local
window older than the retention; the changelog's ``retention.ms`` plus ``segment.ms``
makes Kafka delete them too, so a recovery never brings them back for long.

Error groups unseen for ``LOGMONITOR_GROUP_RETENTION`` are deleted through the table (a
tombstone in the compacted changelog), with their triage state (``group_states.py``), by the
housekeeping tick of their partition, and taken off their service's admitted groups (``group_cap.py``); so are
services unseen for ``LOGMONITOR_SERVICE_RETENTION``, with their ring chunks, their groups and
their place in the partition's registry (``service_registry.py``). "Unseen" goes by the later of
a service's newest event time and when a batch last counted it, so a backlog of old records
being routed now keeps its service.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from logmonitor.metrics import GROUPS_EXPIRED, SERVICES_EXPIRED, WINDOWS_EXPIRED, WINDOWS_HELD
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.cell_table import discard
from logmonitor.pipeline.tables.cells import Cell
from logmonitor.pipeline.tables.error_groups import group_key
from logmonitor.pipeline.tables.group_cap import forget
from logmonitor.pipeline.tables.group_states import state_key
from logmonitor.pipeline.tables.service_state import chunk_key, profile_key, registry_key, releases_key
from logmonitor.timestamps import epoch_of

__all__ = ["drop_expired_windows", "drop_unseen_groups", "drop_unseen_services", "last_counted", "retention_cutoff"]


def retention_cutoff(retention: timedelta, now: float | None = None) -> float:
    """Windows that ended before this epoch are past ``retention``."""
    return (time.time() if now is None else now) - retention.total_seconds()


def drop_expired_windows(log_counts: Any, retention: timedelta, now: float | None = None) -> int:
    """Remove the windows of ``log_counts`` that ended before ``now - retention``; return how many."""
    cutoff = retention_cutoff(retention, now)
    data = log_counts.table.data
    expired = [key for key in list(data.keys()) if key[1][1] < cutoff]
    for key in expired:
        data.pop(key, None)
    WINDOWS_EXPIRED.inc(len(expired))
    WINDOWS_HELD.set(len(data))
    return len(expired)


def _stored(tables: Tables, group: Cell) -> Cell:
    """The table's cell of ``group`` now (``group`` itself if it is gone)."""
    stored: Cell | None = tables.error_groups.get(group_key(group["service"], group["fingerprint"]))
    return stored or group


def _drop_group(tables: Tables, group: Cell) -> None:
    """Delete a group and its triage state."""
    discard(tables.error_groups, group_key(group["service"], group["fingerprint"]))
    discard(tables.group_states, state_key(group["service"], group["fingerprint"]))


def drop_unseen_groups(tables: Tables, groups: Iterable[Cell], retention: timedelta, now: float) -> int:
    """Delete the ``groups`` last seen before ``now - retention``, freeing their places under the group cap.

    ``groups`` may have been read before the router wrote some again: a group is deleted only if
    the table's cell is unseen too. Must run while handling an event of the groups' partition
    (the deletes are changelog writes). Returns how many.
    """
    cutoff = now - retention.total_seconds()
    unseen = [group for group in groups
              if epoch_of(group["last_seen"]) < cutoff and epoch_of(_stored(tables, group)["last_seen"]) < cutoff]
    by_service: dict[str, list[str]] = {}
    for group in unseen:
        _drop_group(tables, group)
        by_service.setdefault(group["service"], []).append(group["fingerprint"])
    for service, fingerprints in by_service.items():
        profile: Cell | None = tables.service_state.get(profile_key(service))
        if profile:
            tables.service_state[profile_key(service)] = forget(profile, fingerprints)
    GROUPS_EXPIRED.inc(len(unseen))
    return len(unseen)


def last_counted(profile: Cell) -> float:
    """When a service was last seen: its newest event time or the last batch that counted it, the later."""
    routed: float = profile.get("_routed_at", 0.0)
    return max(epoch_of(profile["last_seen"]), routed)


def drop_unseen_services(tables: Tables, profiles: Mapping[str, Cell], groups: Iterable[Cell], partition: int,
                         retention: timedelta, now: float) -> set[str]:
    """Delete the services of ``partition`` unseen for ``retention``, their ring chunks, releases and groups.

    Also takes them, and any name whose profile is gone (an expiry that raced a batch), off the
    partition's registry. ``profiles`` may have been read before the router wrote some again: a
    service goes only if the table's profile is unseen too. Must run while handling an event of
    ``partition``. Returns the names.
    """
    cutoff = now - retention.total_seconds()
    stored = {name: tables.service_state.get(profile_key(name)) or profile for name, profile in profiles.items()}
    unseen = {name: profile for name, profile in stored.items() if last_counted(profile) < cutoff}
    for name, profile in unseen.items():
        for number in range(profile.get("_ring_first", 0), profile.get("_ring_next", 0)):
            discard(tables.service_state, chunk_key(name, number))
        discard(tables.service_state, profile_key(name))
        discard(tables.service_state, releases_key(name))
    dropped = [group for group in groups if group["service"] in unseen]
    for group in dropped:
        _drop_group(tables, group)
    registry: Cell | None = tables.service_state.get(registry_key(partition))
    if registry:
        listed: dict[str, int] = registry.get("services", {})
        kept = {name: offset for name, offset in listed.items()
                if name not in unseen and profile_key(name) in tables.service_state}
        if len(kept) < len(listed):
            tables.service_state[registry_key(partition)] = {**registry, "services": kept}
    SERVICES_EXPIRED.inc(len(unseen))
    GROUPS_EXPIRED.inc(len(dropped))
    return set(unseen)
