"""When a group is escalating: its last hour well above its own trailing baseline, with a minimum volume.

At ``now``, with ``H`` the start of the current clock hour:

- *last hour*: the events in the 12 five-minute buckets up to now's (the last 55 to 60 minutes);
- *baseline*: the mean events per hour over the 24 clock hours before the previous one
  (``H - 25h`` to ``H - 1h``; the previous hour is left out as it may overlap the last hour);
- the group is *escalating* when last hour >= ``min_volume`` and last hour >= ``factor`` x baseline,
  and it was first seen no later than ``H - 25h`` (a younger group has no baseline of its own: it is ``new``).

``factor`` and ``min_volume`` are the ``escalating`` alert rule's parameters (defaults below).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logmonitor.triage.buckets import FIVE_MINUTES, HOURS, total

__all__ = ["BASELINE_HOURS", "ESCALATION", "FACTOR", "MIN_VOLUME", "Escalation", "baseline", "is_escalating",
           "last_hour"]

FACTOR = 5.0
"""How many times its baseline a group's last hour must reach."""
MIN_VOLUME = 50
"""The fewest events in the last hour that can escalate (a baseline near zero is no reason to page anybody)."""
BASELINE_HOURS = 24
"""The clock hours the baseline averages, ending an hour before the current one."""
_HOUR = 3600


@dataclass(frozen=True)
class Escalation:
    """The two parameters of escalation (an ``escalating`` rule's ``factor`` and ``min_volume``)."""

    factor: float = FACTOR
    min_volume: int = MIN_VOLUME


ESCALATION = Escalation()


def last_hour(counts: dict[str, Any] | None, now: float) -> int:
    """The events in the last hour (the five-minute buckets up to now's)."""
    return total(counts, FIVE_MINUTES, FIVE_MINUTES.first_kept(now), float("inf"))


def _baseline_start(now: float) -> int:
    return HOURS.start(now) - (BASELINE_HOURS + 1) * _HOUR


def baseline(counts: dict[str, Any] | None, now: float) -> float:
    """The mean events per hour over the :data:`BASELINE_HOURS` clock hours before the previous one."""
    since = _baseline_start(now)
    return total(counts, HOURS, since, since + BASELINE_HOURS * _HOUR) / BASELINE_HOURS


def is_escalating(counts: dict[str, Any] | None, first_seen: float, now: float,
                  escalation: Escalation = ESCALATION) -> bool:
    """Whether a group first seen at ``first_seen`` with these counts is escalating at ``now``."""
    recent = last_hour(counts, now)
    if recent < escalation.min_volume or first_seen > _baseline_start(now):
        return False
    return recent >= escalation.factor * baseline(counts, now)
