"""The one time module: record timestamps (sanity window) and time parameters (formats, bounds that answer 400)."""

from __future__ import annotations

import math

import pytest

from logmonitor import timestamps
from logmonitor.timestamps import (
    LATEST,
    RecordTimeError,
    TimeParamError,
    iso_timestamp,
    iso_timestamp_truncated,
    parse_time_param,
    record_time,
)
from logmonitor.web.errors import BadParameter
from logmonitor.web.params import query_time


@pytest.mark.parametrize(("value", "epoch"), [
    ("2026-11-26T06:31:16Z", 1795674676.0),
    ("2026-11-26T06:31:16.500+00:00", 1795674676.5),
    ("2026-11-26T07:31:16+01:00", 1795674676.0),
    ("2026-11-26T06:31:16", 1795674676.0),  # naive means UTC
    (" 1795674676 ", 1795674676.0),
    ("1795674676500", 1795674676.5),  # milliseconds
    (1795674676, 1795674676.0),
    (1795674676500, 1795674676.5),
    (0, 0.0),
    ("9999-12-31T23:59:59Z", LATEST),
])
def test_iso_and_epoch_seconds_and_milliseconds_are_understood(value: object, epoch: float) -> None:
    assert parse_time_param(value, "since") == epoch


@pytest.mark.parametrize("value", [
    "0001-01-01T00:00:00+14:00",  # was a 500: its epoch has no ISO form
    "1969-12-31T23:59:59Z", -1, "-1", 1e300, "1e300", 10**400,
    pytest.param(10**5000, id="10**5000"), math.inf, math.nan, "nan", "inf", "-inf",
    "9999-12-31T23:59:59-14:00", (LATEST + 1) * 1000,
])
def test_times_outside_1970_to_9999_are_refused(value: object) -> None:
    with pytest.raises(TimeParamError, match="between 1970-01-01 and 9999-12-31"):
        parse_time_param(value, "range.to")


@pytest.mark.parametrize("value", ["yesterday", "", "2026-13-01", "1" * 65, None, True, [1], {"t": 1}])
def test_what_is_not_a_time_is_refused_with_the_parameters_name(value: object) -> None:
    with pytest.raises(TimeParamError, match=r"^range\.from "):
        parse_time_param(value, "range.from")


def test_rest_times_become_bad_parameters_and_the_latest_one_is_printable() -> None:
    with pytest.raises(BadParameter, match="since must be between"):
        query_time({"since": "0001-01-01T00:00:00+14:00"}, "since")
    assert query_time({"until": "9999-12-31T23:59:59Z"}, "until") == iso_timestamp(LATEST)


NOW = 1795674676.0


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-26T06:31:16.379Z", (1795674676.379, "2026-11-26T06:31:16.379Z")),  # ours: kept as sent
    ("2026-11-26T06:31:16.379z", (1795674676.379, "2026-11-26T06:31:16.379Z")),  # lower-case z: records only
    ("2026-11-26T07:31:16+01:00", (NOW, "2026-11-26T06:31:16.000Z")),
    ("2026-11-26T06:31:16", (NOW, "2026-11-26T06:31:16.000Z")),  # naive means UTC
    (NOW - 60, (NOW - 60, "2026-11-26T06:30:16.000Z")),
])
def test_record_times(value: object, expected: tuple[float, str]) -> None:
    assert record_time(value, NOW) == expected


@pytest.mark.parametrize(("value", "reason"), [
    ("yesterday", "bad_timestamp"), (True, "bad_timestamp"), (NOW + 2 * 86400, "future_timestamp"),
    (NOW - 31 * 86400, "stale_timestamp"), ("0001-01-01T00:00:00Z", "stale_timestamp"),
])
def test_record_times_outside_the_sanity_window(value: object, reason: str) -> None:
    with pytest.raises(RecordTimeError, match=f"^{reason}: "):
        record_time(value, NOW)


def test_the_rules_differ_where_they_should() -> None:
    with pytest.raises(TimeParamError):
        parse_time_param("2026-11-26T06:31:16z", "since")  # parameters take only Z
    assert parse_time_param(NOW * 1000, "since") == NOW  # milliseconds: parameters only
    with pytest.raises(RecordTimeError, match=r"^future_timestamp: "):
        record_time(NOW * 1000, NOW)


def test_the_handler_truncates_where_iso_timestamp_rounds_to_the_microsecond() -> None:
    assert iso_timestamp(0.5) == iso_timestamp_truncated(0.5) == "1970-01-01T00:00:00.500Z"
    assert (iso_timestamp(1.0009999999), iso_timestamp_truncated(1.0009999999)) == (
        "1970-01-01T00:00:01.001Z", "1970-01-01T00:00:01.000Z")


def test_ever_new_seconds_are_read_right_and_remembered_within_the_bound() -> None:
    """Canonical timestamps' seconds are remembered up to 4,096 at a time (emptied when full), whatever is sent."""
    for n in range(0, 10_000 * 97, 97):  # 10,000 distinct seconds (over twice the bound), up to 11 days back
        epoch = NOW - n - 0.25
        assert record_time(iso_timestamp(epoch), NOW) == (epoch, iso_timestamp(epoch))
    assert 0 < len(timestamps._SECOND_MILLIS) <= 4096  # the bound is what this test is about
