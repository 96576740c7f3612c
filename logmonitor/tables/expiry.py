"""Retention of table state: old windows of ``log_counts`` and error groups unseen for long.

Windows: expired for real, also those recovered from the changelog.

Faust expires only windows it saw being written in this process, by wall clock (faust
#385, and ``_del_old_keys`` never matches recovered keys). This sweep drops every local
window older than the retention; the changelog's ``retention.ms`` plus ``segment.ms``
makes Kafka delete them too, so a recovery never brings them back for long.

Error groups unseen for ``LOGMONITOR_GROUP_RETENTION`` are deleted through the table (a
tombstone in the compacted changelog), by the housekeeping tick of their partition.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from logmonitor.app import app, settings
from logmonitor.metrics import GROUPS_EXPIRED, WINDOWS_EXPIRED, WINDOWS_HELD
from logmonitor.records import epoch_of
from logmonitor.tables.cells import Cell
from logmonitor.tables.error_groups import error_groups, group_key
from logmonitor.tables.log_counts import log_counts

__all__ = ["drop_expired_windows", "drop_unseen_groups", "retention_cutoff"]


def retention_cutoff(now: float | None = None) -> float:
    """Windows that ended before this epoch are past the retention."""
    return (time.time() if now is None else now) - settings.window_retention.total_seconds()


def drop_expired_windows(now: float | None = None) -> int:
    """Remove the windows that ended before ``now - retention``; return how many."""
    cutoff = retention_cutoff(now)
    data = log_counts.table.data
    expired = [key for key in list(data.keys()) if key[1][1] < cutoff]
    for key in expired:
        data.pop(key, None)
    WINDOWS_EXPIRED.inc(len(expired))
    WINDOWS_HELD.set(len(data))
    return len(expired)


@app.timer(interval=30.0)  # type: ignore[untyped-decorator]  # faust leaves it untyped
async def expire_windows() -> None:
    """Sweep expired windows every 30 s."""
    drop_expired_windows()


def drop_unseen_groups(groups: Iterable[Cell], now: float) -> int:
    """Delete the groups last seen before ``now - group retention``; return how many.

    Must run while handling an event of the groups' partition (the delete is a changelog write).
    """
    cutoff = now - settings.group_retention.total_seconds()
    unseen = [group for group in groups
              if epoch_of(group["last_seen"]) < cutoff]
    for group in unseen:
        error_groups.pop(group_key(group["service"], group["fingerprint"]), None)
    GROUPS_EXPIRED.inc(len(unseen))
    return len(unseen)
