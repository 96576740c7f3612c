"""Expire old windows of ``log_counts`` for real, also those recovered from the changelog.

Faust expires only windows it saw being written in this process, by wall clock (faust
#385, and ``_del_old_keys`` never matches recovered keys). This sweep drops every local
window older than the retention; the changelog's ``retention.ms`` plus ``segment.ms``
makes Kafka delete them too, so a recovery never brings them back for long.
"""

from __future__ import annotations

import time

from logmonitor.app import app, settings
from logmonitor.metrics import WINDOWS_EXPIRED, WINDOWS_HELD
from logmonitor.tables.log_counts import log_counts

__all__ = ["drop_expired_windows", "retention_cutoff"]


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
