"""The chart's series: buckets of whole windows, bounded points, the top services, the retention said."""

from __future__ import annotations

import pytest

from logmonitor.read.series import (
    MAX_POINTS,
    SeriesRequestError,
    default_step,
    series_answer,
    series_span,
)

NOW = 1_800_000_000.0 + 2 * 3600 + 17 * 60 + 42  # 42 s into a minute, 17 min into an hour
LONG_AGO = 0.0  # a retention cutoff that keeps everything


@pytest.mark.parametrize(("minutes", "step", "points"), [
    (15, 60, 15), (60, 60, 60), (360, 60, 360), (1440, 300, 288), (361, 120, 181), (1, 60, 1),
])
def test_the_default_step_is_the_finest_round_one_within_the_point_bound(minutes: int, step: int, points: int) -> None:
    assert default_step(minutes) == step
    assert len(series_span(minutes, step, NOW).starts) == points


def test_the_span_ends_with_the_bucket_holding_now_and_covers_the_range() -> None:
    span = series_span(1440, 300, NOW)
    assert span.since <= NOW - 1440 * 60 + 300 and span.since % 300 == 0
    assert span.starts[-1] <= NOW < span.until == span.starts[-1] + 300
    assert list(span.starts) == list(range(span.since, span.until, 300))


def test_a_step_that_is_not_whole_windows_or_too_fine_for_the_range_is_refused() -> None:
    with pytest.raises(SeriesRequestError, match="multiple of 60"):
        series_span(60, 90, NOW)
    with pytest.raises(SeriesRequestError, match=f"more than {MAX_POINTS}; use a step of at least 300"):
        series_span(1440, 60, NOW)


def test_windows_are_summed_into_their_buckets_and_empty_buckets_are_zero() -> None:
    span = series_span(60, 600, NOW)
    first = span.since
    counts = {"pay": {"ERROR": {first: 2, first + 60: 3, first + 600: 1, first - 60: 50, span.until: 70}}}
    answer = series_answer(counts, span, 10, LONG_AGO)
    assert answer["bucket_seconds"] == 600 and answer["since"] == first * 1000 and answer["until"] == span.until * 1000
    assert answer["series"]["pay"]["ERROR"] == [
        [(first + i * 600) * 1000, n] for i, n in enumerate([5, 1, 0, 0, 0, 0])], "windows outside the span left out"
    assert answer["others"] == {} and answer["services_omitted"] == 0


def test_levels_come_in_order_and_only_those_with_counts() -> None:
    span = series_span(15, 60, NOW)
    answer = series_answer({"pay": {"CRITICAL": {span.since: 1}, "INFO": {span.since: 4}}}, span, 10, LONG_AGO)
    assert list(answer["series"]["pay"]) == ["INFO", "CRITICAL"]


def test_only_the_top_services_by_errors_get_lines_and_the_rest_are_summed() -> None:
    span = series_span(15, 60, NOW)
    at = span.starts[3]
    counts = {
        "loud": {"INFO": {at: 1000}},  # busiest, but no errors
        "a": {"ERROR": {at: 5}},
        "b": {"ERROR": {at: 5}, "INFO": {at: 1}},  # ties with a on errors, more volume
        "c": {"CRITICAL": {at: 7}},
        "d": {"ERROR": {at: 1}, "WARNING": {at: 2}},
    }
    answer = series_answer(counts, span, 3, LONG_AGO)
    assert list(answer["series"]) == ["a", "b", "c"], "sorted by name, chosen by errors then volume"
    assert answer["services_omitted"] == 2
    others = answer["others"]
    assert [level for level in others] == ["INFO", "WARNING", "ERROR"]
    assert others["INFO"][3] == [at * 1000, 1000] and others["ERROR"][3] == [at * 1000, 1]
    assert sum(n for _, n in others["WARNING"]) == 2


def test_buckets_before_the_retention_are_left_out_and_the_answer_says_from_when() -> None:
    span = series_span(1440, 300, NOW)
    cutoff = NOW - 6 * 3600 - 30  # windows that ended before this are gone
    oldest_kept = int((cutoff - 60) // 60 * 60 + 60)  # the first window that ends at or after the cutoff
    counts = {"pay": {"ERROR": {oldest_kept: 3, span.starts[-1]: 1}}}
    answer = series_answer(counts, span, 10, cutoff)
    assert answer["retained_since"] == oldest_kept * 1000
    points = answer["series"]["pay"]["ERROR"]
    assert points[0][0] <= oldest_kept * 1000 < points[0][0] + 300_000, "the bucket holding the oldest window is first"
    assert points[0][1] == 3 and points[-1] == [span.starts[-1] * 1000, 1]
    assert len(points) == 6 * 12 + 1


def test_a_range_within_the_retention_is_answered_whole() -> None:
    span = series_span(60, 60, NOW)
    answer = series_answer({"pay": {"ERROR": {span.since: 1}}}, span, 10, NOW - 86400)
    assert answer["retained_since"] == answer["since"]
    assert len(answer["series"]["pay"]["ERROR"]) == 60


def test_the_answer_is_bounded_whatever_the_table_holds() -> None:
    span = series_span(1440, 300, NOW)
    counts = {f"svc{i}": {level: {start: 1 for start in range(span.since, span.until, 60)}
                          for level in ("INFO", "ERROR", "CRITICAL")} for i in range(60)}
    answer = series_answer(counts, span, 50, LONG_AGO)
    lines = [*answer["series"].values(), answer["others"]]
    assert len(answer["series"]) == 50 and answer["services_omitted"] == 10
    assert sum(len(points) for line in lines for points in line.values()) == 51 * 3 * 288
    assert answer["others"]["ERROR"][0][1] == 10 * 5
