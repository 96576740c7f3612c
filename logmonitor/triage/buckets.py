"""A group's event counts by five minutes, hour and day: bounded, old buckets dropped as time passes.

The counts are one JSON-safe mapping, ``{"m": [[start, n], ...], "h": [...], "d": [...]}``, each
list in ascending bucket start (epoch seconds, UTC-aligned). Each tier keeps only its last
``kept`` buckets up to now, so a group's counts never hold more than 12 + 26 + 14 buckets:

- five minutes, 12 kept: the last hour, for escalation (``escalation.py``);
- hours, 26 kept: the 24 h the API shows, and escalation's baseline (the 24 h before the previous hour);
- days, 14 kept: the 14 days the API shows.

An event is counted at its own time, or at ``now`` when its time is later (a producer's clock
ahead of ours must not create buckets in the future that would push real ones out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["DAYS", "FIVE_MINUTES", "HOURS", "TIERS", "Tier", "count_events", "series", "total"]


@dataclass(frozen=True)
class Tier:
    """One resolution of the counts: its field in the mapping, its bucket size, and how many buckets it keeps."""

    field: str
    size: int
    kept: int

    def start(self, epoch: float) -> int:
        """The start of the bucket holding ``epoch``."""
        return int(epoch // self.size) * self.size

    def first_kept(self, now: float) -> int:
        """The start of the oldest bucket this tier keeps at ``now``."""
        return self.start(now) - (self.kept - 1) * self.size


FIVE_MINUTES = Tier("m", 300, 12)
HOURS = Tier("h", 3600, 26)
DAYS = Tier("d", 86400, 14)
TIERS = (FIVE_MINUTES, HOURS, DAYS)


def count_events(counts: dict[str, Any], epochs: Iterable[float], now: float) -> None:
    """Count, in place, events at ``epochs`` (each at ``now`` if later) in every tier that still keeps its bucket."""
    moments = [min(epoch, now) for epoch in epochs]
    for tier in TIERS:
        first = tier.first_kept(now)
        held = Counter({start: n for start, n in counts.get(tier.field, ()) if start >= first})
        held.update(start for moment in moments if (start := tier.start(moment)) >= first)
        counts[tier.field] = [[start, held[start]] for start in sorted(held)]


def series(counts: dict[str, Any] | None, tier: Tier, now: float, length: int) -> list[tuple[int, int]]:
    """``(start, count)`` of the last ``length`` buckets of ``tier`` up to now's, oldest first, zeros included."""
    held = {start: n for start, n in (counts or {}).get(tier.field, ())}
    last = tier.start(now)
    return [(start, held.get(start, 0)) for start in range(last - (length - 1) * tier.size, last + 1, tier.size)]


def total(counts: dict[str, Any] | None, tier: Tier, since: float, until: float) -> int:
    """The events in the buckets of ``tier`` starting at or after ``since`` and before ``until``."""
    return sum(n for start, n in (counts or {}).get(tier.field, ()) if since <= start < until)
