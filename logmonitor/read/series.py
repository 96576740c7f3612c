"""The dashboard chart's series: counts per service and level in buckets of whole windows.

A day of 1-minute windows is 1,440 points per service and level, and a worker may keep 1,000
services; the answer is bounded both ways. Windows are summed into buckets of ``step`` seconds,
at most :data:`MAX_POINTS` of them, and only the ``top`` services with the most errors get their
own lines, the rest are summed into ``others``. Counts are only kept for the window retention
(``LOGMONITOR_WINDOW_RETENTION``): the answer says from when (``retained_since``) and leaves out
the buckets before it rather than reporting them as zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from logmonitor.levels import ERROR_LEVELS, LEVELS
from logmonitor.window import WINDOW_SECONDS

__all__ = [
    "DEFAULT_TOP", "MAX_MINUTES", "MAX_POINTS", "MAX_STEP", "MAX_TOP", "SeriesRequestError", "SeriesSpan",
    "default_step", "series_answer", "series_span",
]

WINDOW = int(WINDOW_SECONDS)
MAX_MINUTES = 24 * 60
"""The longest range the chart asks for: the default window retention."""
MAX_POINTS = 360
"""Buckets per line at most: 6 hours of minutes, a point for every ~2 pixels of the chart."""
MAX_STEP = 3600
DEFAULT_TOP = 10
MAX_TOP = 50
_NICE_STEPS = tuple(minutes * WINDOW for minutes in (1, 2, 5, 10, 15, 30, 60))

Counts = Mapping[str, Mapping[str, Mapping[int, int]]]
"""``{service: {level: {window_start: n}}}`` as :func:`logmonitor.read.queries.merge_counts` gives them."""
Line = dict[str, list[list[int]]]


class SeriesRequestError(ValueError):
    """The asked step cannot serve the asked range."""


@dataclass(frozen=True)
class SeriesSpan:
    """The buckets of one answer: ``starts`` (epoch seconds, ascending), each ``step`` seconds long."""

    starts: range

    @property
    def step(self) -> int:
        """Seconds per bucket, a whole number of windows."""
        return self.starts.step

    @property
    def since(self) -> int:
        """The start of the first bucket."""
        return self.starts.start

    @property
    def until(self) -> int:
        """The end of the last bucket (exclusive)."""
        return self.starts[-1] + self.step


def default_step(minutes: int) -> int:
    """The finest round step (1, 2, 5, 10, 15, 30 or 60 minutes) that keeps ``minutes`` within :data:`MAX_POINTS`."""
    return next((step for step in _NICE_STEPS if _bucket_count(minutes, step) <= MAX_POINTS), MAX_STEP)


def series_span(minutes: int, step: int, now: float) -> SeriesSpan:
    """The buckets covering the last ``minutes``, the last one holding ``now``, aligned to ``step``.

    Raises:
        SeriesRequestError: ``step`` is not a whole number of windows, or gives more than MAX_POINTS buckets.
    """
    if step % WINDOW:
        raise SeriesRequestError(f"step must be a multiple of {WINDOW} seconds, got {step}")
    count = _bucket_count(minutes, step)
    if count > MAX_POINTS:
        raise SeriesRequestError(
            f"{minutes} minutes in steps of {step} s are {count} points, more than {MAX_POINTS}; "
            f"use a step of at least {default_step(minutes)}")
    last = int(now // step * step)
    return SeriesSpan(range(last - (count - 1) * step, last + 1, step))


def series_answer(counts: Counts, span: SeriesSpan, top: int, retention_cutoff: float) -> dict[str, Any]:
    """The ``/api/v1/logs/series`` body: ``top`` services by errors (then volume, then name), the rest summed.

    Args:
        counts: the merged window counts of the span.
        span: the buckets to answer.
        top: how many services get their own lines.
        retention_cutoff: windows that ended before this epoch are no longer kept.
    """
    ranked = sorted(counts, key=lambda name: (-_total(counts[name], ERROR_LEVELS), -_total(counts[name]), name))
    shown, rest = sorted(ranked[:top]), ranked[top:]
    retained_since = math.ceil((retention_cutoff - WINDOW) / WINDOW) * WINDOW  # the oldest window kept
    kept = range(_first_bucket_reaching(span, retained_since), len(span.starts))
    others: dict[str, dict[int, int]] = {}
    for name in rest:
        for level, by_start in counts[name].items():
            summed = others.setdefault(level, {})
            for start, n in by_start.items():
                summed[start] = summed.get(start, 0) + n
    return {
        "bucket_seconds": span.step,
        "since": span.since * 1000,
        "until": span.until * 1000,
        "retained_since": max(retained_since, span.since) * 1000,
        "series": {name: _line(counts[name], span, kept) for name in shown},
        "others": _line(others, span, kept),
        "services_omitted": len(rest),
    }


def _bucket_count(minutes: int, step: int) -> int:
    return math.ceil(minutes * WINDOW / step)


def _total(by_level: Mapping[str, Mapping[int, int]], levels: frozenset[str] | tuple[str, ...] = LEVELS) -> int:
    return sum(n for level in levels for n in by_level.get(level, {}).values())


def _first_bucket_reaching(span: SeriesSpan, moment: int) -> int:
    """The index of the first bucket that ends after ``moment``."""
    return min(len(span.starts), max(0, (moment - span.since) // span.step))


def _line(by_level: Mapping[str, Mapping[int, int]], span: SeriesSpan, kept: range) -> Line:
    """``{level: [[bucket_start_ms, n], ...]}`` over the kept buckets, zero-filled, levels in order."""
    line: Line = {}
    for level in LEVELS:
        by_start = by_level.get(level)
        if not by_start:
            continue
        sums = [0] * len(span.starts)
        for start, n in by_start.items():
            index = (int(start) - span.since) // span.step
            if 0 <= index < len(sums):
                sums[index] += n
        line[level] = [[span.starts[index] * 1000, sums[index]] for index in kept]
    return line
