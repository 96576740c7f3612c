"""Per-group counts by 5 minutes, hour and day (bounded, expiring), and when a group is escalating."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from logmonitor.triage.buckets import DAYS, FIVE_MINUTES, HOURS, TIERS, count_events, series, total
from logmonitor.triage.escalation import Escalation, baseline, is_escalating, last_hour
from tests.unit.triage.steps import T0

HOUR, DAY = 3600, 86400


def counted(times: list[float], now: float) -> dict[str, Any]:
    """Counts of events at ``times``, counted at ``now`` in one batch (as one by one: the next test)."""
    counts: dict[str, Any] = {}
    count_events(counts, times, now)
    return counts


OFFSETS = st.floats(-40 * DAY, 2 * DAY)


@given(st.lists(OFFSETS, max_size=50), st.lists(OFFSETS, min_size=1, max_size=50))
def test_a_batch_of_events_counts_as_the_same_events_one_by_one(before: list[float], batch: list[float]) -> None:
    counts = counted([T0 + offset for offset in before], T0)
    count_events(counts, [T0 + offset for offset in batch], T0 + HOUR)
    one_by_one: dict[str, Any] = {}
    for offsets, now in ((before, T0), (batch, T0 + HOUR)):
        for offset in offsets:
            count_events(one_by_one, [T0 + offset], now)
    assert counts == one_by_one


def test_an_event_counts_once_in_each_tier() -> None:
    counts = counted([T0 + 1234.5], T0 + 2000)
    assert counts == {"m": [[T0 + 1200, 1]], "h": [[T0, 1]], "d": [[T0 - 8 * HOUR, 1]]}


def test_series_fill_gaps_with_zeros_oldest_first() -> None:
    counts = counted([T0 - 2 * HOUR, T0 - 2 * HOUR + 5, T0 + 10], T0 + 10)
    assert series(counts, HOURS, T0 + 10, 4) == [(T0 - 3 * HOUR, 0), (T0 - 2 * HOUR, 2), (T0 - HOUR, 0), (T0, 1)]
    assert [n for _start, n in series(counts, DAYS, T0, 14)] == [0] * 13 + [3]


def test_old_buckets_are_dropped_as_time_passes_and_old_events_count_only_where_kept() -> None:
    counts = counted([T0 - 3 * HOUR], T0)
    count_events(counts, [T0 + 30 * HOUR], T0 + 30 * HOUR)
    assert [start for start, _n in counts["h"]] == [T0 + 30 * HOUR], "26 hours later the old hour is gone"
    assert len(counts["d"]) == 2 and counts["m"] == [[T0 + 30 * HOUR, 1]]
    count_events(counts, [T0 - 20 * DAY], T0 + 30 * HOUR)
    assert sum(n for _s, n in counts["d"]) == 2, "an event older than 14 days counts nowhere"


def test_an_event_stamped_in_the_future_counts_now() -> None:
    counts = counted([T0 + 23 * HOUR], T0)
    assert counts["h"] == [[T0, 1]] and counts["m"] == [[T0, 1]]


@given(st.lists(st.tuples(st.floats(-40 * DAY, 2 * DAY), st.floats(0, 600)), max_size=300))
def test_counts_stay_bounded_and_exact_within_the_tiers(offsets: list[tuple[float, float]]) -> None:
    counts: dict[str, Any] = {}
    moments: list[float] = []  # when each event counts: its time, or the clock's if later
    now = T0
    for before_now, advance in offsets:
        now += advance
        count_events(counts, [now - before_now], now)
        moments.append(min(now - before_now, now))
        for tier in TIERS:
            starts = [start for start, _n in counts[tier.field]]
            assert len(starts) <= tier.kept and starts == sorted(set(starts))
            assert all(start >= tier.first_kept(now) for start in starts)
    for tier in TIERS:
        kept = sum(1 for moment in moments if tier.start(moment) >= tier.first_kept(now))
        assert total(counts, tier, 0, float("inf")) == kept


def steady(per_hour: int, hours: int, now: float) -> list[float]:
    """``per_hour`` events evenly spread over each of the ``hours`` before ``now``."""
    return [now - hours * HOUR + n * HOUR / per_hour for n in range(hours * per_hour)]


NOW = T0 + 30 * 60  # half past the hour
FIRST_SEEN = NOW - 3 * DAY


def test_a_steady_rate_is_not_escalating_whatever_its_volume() -> None:
    for per_hour in (1, 60, 1000):
        counts = counted(steady(per_hour, 30, NOW), NOW)
        assert last_hour(counts, NOW) <= per_hour
        assert abs(baseline(counts, NOW) - per_hour) <= 1 / 24
        assert not is_escalating(counts, FIRST_SEEN, NOW)


def test_a_spike_over_five_times_the_baseline_escalates() -> None:
    counts = counted(steady(20, 30, NOW - 10 * 60) + [NOW - 60 + n / 100 for n in range(600)], NOW)
    assert last_hour(counts, NOW) >= 600 and abs(baseline(counts, NOW) - 20) <= 1 / 24
    assert is_escalating(counts, FIRST_SEEN, NOW)
    assert not is_escalating(counts, FIRST_SEEN, NOW, Escalation(factor=40)), "the factor is the rule's"
    assert not is_escalating(counts, FIRST_SEEN, NOW + 2 * HOUR), "an hour after the spike it is over"


def test_a_quiet_group_needs_the_minimum_volume_to_escalate() -> None:
    burst = [NOW - 60 + n for n in range(49)]
    assert not is_escalating(counted(burst, NOW), FIRST_SEEN, NOW)
    assert is_escalating(counted([*burst, NOW], NOW), FIRST_SEEN, NOW)
    assert not is_escalating(counted([*burst, NOW], NOW), FIRST_SEEN, NOW, Escalation(min_volume=51))


def test_a_group_younger_than_its_baseline_is_not_escalating() -> None:
    spike = counted([NOW - n for n in range(500)], NOW)
    baseline_start = T0 - 25 * HOUR
    assert is_escalating(spike, baseline_start, NOW)
    assert not is_escalating(spike, baseline_start + 1, NOW)


def test_the_baseline_leaves_out_the_current_and_previous_hours() -> None:
    counts = counted([T0 - 30 * 60] * 240 + [T0 - 2 * HOUR] * 24 + [T0 - 25 * HOUR] * 24 + [T0 - 26 * HOUR] * 99,
                     T0 + 10)
    assert baseline(counts, T0 + 10) == 2.0
    assert last_hour(counts, T0 + 10) == 240 and is_escalating(counts, FIRST_SEEN, T0 + 10)
    assert last_hour(counts, T0 + 3600) == 0, "the last hour is the 12 five-minute buckets up to now's"


def test_reading_at_a_later_time_ignores_buckets_not_yet_dropped() -> None:
    counts = counted([NOW] * 100, NOW)
    assert last_hour(counts, NOW + HOUR) == 0 and series(counts, FIVE_MINUTES, NOW + HOUR, 12) == [
        (start, 0) for start in range(FIVE_MINUTES.first_kept(NOW + HOUR), int(NOW + HOUR) + 1, 300)]
