"""Properties of breadcrumbs on generated input: the bounds hold on both sides, whatever is logged or sent."""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from logmonitor.handler.breadcrumbs import (
    MAX_BREADCRUMB_BYTES,
    MAX_BREADCRUMBS,
    MESSAGE_CHARS,
    Trail,
)
from logmonitor.handler.encoding import Captured, RecordEncoder
from logmonitor.handler.redaction import Redactor, cut
from logmonitor.levels import LEVELS
from logmonitor.pipeline.records import InvalidRecord, parse_record
from tests.unit.test_records_properties import encode, json_values

NOW = time.time()
SECRETS = st.sampled_from(["password=hunter2", "Bearer abc.def.ghi", "token: s3cr3t", "4111 1111 1111 1111", ""])
MESSAGES = st.tuples(st.text(max_size=40), SECRETS, st.text(max_size=40), st.integers(0, 3000)).map(
    lambda parts: parts[0] + parts[1] + parts[2] + "y" * parts[3])  # some longer than a breadcrumb keeps
LOGGED = st.lists(st.tuples(st.sampled_from([logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]),
                            MESSAGES), max_size=60)


@settings(max_examples=60, deadline=None)
@given(LOGGED, st.integers(1, MAX_BREADCRUMBS), st.integers(2, MAX_BREADCRUMB_BYTES))
def test_an_error_carries_the_newest_records_cut_redacted_and_within_both_bounds(
        logged: list[tuple[int, str]], count: int, max_bytes: int) -> None:
    trail = Trail(owner=1)
    trail.crumbs = deque(maxlen=count)
    for levelno, message in logged:
        trail.add(logging.makeLogRecord({"levelno": levelno, "name": "shop", "msg": message}), message)
        assert len(trail.crumbs) <= count and all(len(crumb.message) <= MESSAGE_CHARS for crumb in trail.crumbs)
    error = logging.makeLogRecord({"levelno": logging.ERROR, "levelname": "ERROR", "name": "shop", "msg": "boom",
                                   "created": NOW})
    encoder = RecordEncoder("svc", "h", Redactor(), breadcrumb_bytes=max_bytes)
    value = encoder.encode(Captured(error, "boom", (None,) * 4, trail.newest(count)))
    crumbs = orjson.loads(value).get("breadcrumbs", [])
    assert len(crumbs) <= count and len(orjson.dumps(crumbs)) <= max_bytes
    expected = [Redactor().text(cut(message[:MESSAGE_CHARS])) for _level, message in logged]
    assert [crumb["message"] for crumb in crumbs] == (expected[len(expected) - len(crumbs):] if crumbs else [])
    assert parse_record(value, now=NOW)["breadcrumbs"] == (crumbs or None), "the router takes what the handler sends"


CRUMBS = st.lists(st.fixed_dictionaries(
    {"timestamp": st.text(max_size=70) | json_values, "level": st.sampled_from([*LEVELS, "warn", "loud"]) | json_values,
     "message": st.text(max_size=40).map(lambda text: text * 30) | json_values},
    optional={"logger": st.none() | st.text(max_size=1100), "data": json_values}) | json_values, max_size=120)


@settings(max_examples=50, deadline=None)
@given(CRUMBS | json_values)
def test_the_router_keeps_breadcrumbs_within_the_bounds_or_dead_letters_the_record(crumbs: Any) -> None:
    raw = encode({"level": "ERROR", "service": "svc", "message": "boom", "breadcrumbs": crumbs})
    try:
        record = parse_record(raw, now=NOW)
    except InvalidRecord as invalid:
        assert invalid.reason.startswith(("bad_breadcrumbs", "not_json"))  # not_json: generated infinities
        return
    kept = record["breadcrumbs"]
    assert kept is None or (len(kept) <= MAX_BREADCRUMBS and len(orjson.dumps(kept)) <= MAX_BREADCRUMB_BYTES)
    for crumb in kept or ():
        assert list(crumb) == ["timestamp", "level", "logger", "message"] and crumb["level"] in LEVELS
    Redactor().record(record)
    orjson.dumps(record)
