"""Apply one record to the tables, idempotently (called only from the router, inside iteration)."""

from __future__ import annotations

from typing import Any

from logmonitor.records import ERROR_LEVELS
from logmonitor.tables.cells import applied, mark_applied
from logmonitor.tables.error_groups import error_groups, group_key
from logmonitor.tables.event_time import current_record_epoch
from logmonitor.tables.invalid_counts import invalid_counts
from logmonitor.tables.log_counts import log_counts
from logmonitor.tables.service_state import RING_SIZE, profile_key, ring_key, service_state

__all__ = ["already_applied", "apply_invalid", "apply_record"]

MAX_HOSTS = 64


def already_applied(service: str, partition: int, offset: int) -> bool:
    """Whether the service profile already counts the record at ``partition``/``offset``."""
    return applied(service_state.get(profile_key(service)), partition, offset)


def _count_in_window(record: dict[str, Any], partition: int, offset: int) -> None:
    current_record_epoch.set(record["epoch"])
    cell = log_counts[record["service"]].value()
    if applied(cell, partition, offset):
        return
    cell = dict(cell)
    cell[record["level"]] = cell.get(record["level"], 0) + 1
    log_counts[record["service"]] = mark_applied(cell, partition, offset)


def _update_group(record: dict[str, Any], partition: int, offset: int) -> bool:
    """Count the error in its group; return True when the group is new."""
    key = group_key(record["service"], record["fingerprint"])
    group = error_groups.get(key)
    if applied(group, partition, offset):
        return False
    exception = record.get("exception") or {}
    fresh = not group
    group = dict(group or {
        "service": record["service"], "fingerprint": record["fingerprint"], "count": 0,
        "first_seen": record["timestamp"], "title": record["title"],
        "exception_type": exception.get("type"),
    })
    group["count"] += 1
    group["first_seen"] = min(group["first_seen"], record["timestamp"])
    group["last_seen"] = max(group.get("last_seen", record["timestamp"]), record["timestamp"])
    group.update(level=record["level"], logger=record.get("logger"), last_id=record["id"])
    error_groups[key] = mark_applied(group, partition, offset)
    return fresh


def _update_profile(record: dict[str, Any], partition: int, offset: int) -> None:
    service, level = record["service"], record["level"]
    profile = dict(service_state.get(profile_key(service)) or {
        "name": service, "first_seen": record["timestamp"], "last_seen": record["timestamp"],
        "hosts": [], "totals": {}, "errors_seen": 0,
    })
    if level in ERROR_LEVELS:
        # The ring slot goes first: same changelog partition, so it is durable before the profile.
        slot = profile["errors_seen"] % RING_SIZE
        ring_entry = {**record, "seq": profile["errors_seen"]}
        service_state[ring_key(service, slot)] = mark_applied(ring_entry, partition, offset)
        profile["errors_seen"] += 1
    profile["totals"] = {**profile["totals"], level: profile["totals"].get(level, 0) + 1}
    profile["first_seen"] = min(profile["first_seen"], record["timestamp"])
    profile["last_seen"] = max(profile["last_seen"], record["timestamp"])
    host = record.get("host")
    if host and host not in profile["hosts"] and len(profile["hosts"]) < MAX_HOSTS:
        profile["hosts"] = [*profile["hosts"], host]
    service_state[profile_key(service)] = mark_applied(profile, partition, offset)


def apply_record(record: dict[str, Any], partition: int, offset: int) -> bool:
    """Count a valid record everywhere it belongs; skip tables that already hold it.

    Returns:
        True when the record opened a new error group.
    """
    _count_in_window(record, partition, offset)
    new_group = record["level"] in ERROR_LEVELS and _update_group(record, partition, offset)
    if not already_applied(record["service"], partition, offset):
        _update_profile(record, partition, offset)
    return new_group


def apply_invalid(partition: int, offset: int) -> None:
    """Count one record sent to the dead-letter topic."""
    key = str(partition)
    cell = invalid_counts.get(key)
    if applied(cell, partition, offset):
        return
    invalid_counts[key] = mark_applied({"n": (cell or {}).get("n", 0) + 1}, partition, offset)
