"""A new grouping version does not split the groups an older one made; counts stay exact on replays and at the cap.

The router runs in-process on dict tables (tests/unit/dict_tables.py, the fake producer of
test_router.py). A group made before grouping had versions is seeded as version 1 made it: its
cell and its place among the service's admitted groups (tables/group_cap.py).
"""

from __future__ import annotations

from typing import Any

import orjson

from logmonitor.pipeline import router
from logmonitor.pipeline.fingerprint import GROUPING_VERSION, fingerprint, fingerprint_candidates
from logmonitor.pipeline.grouping import v1
from logmonitor.pipeline.tables.error_groups import group_key
from logmonitor.pipeline.tables.group_cap import OVERFLOW_FINGERPRINT
from logmonitor.pipeline.tables.service_state import profile_key
from tests.unit.dict_tables import DictTables
from tests.unit.test_router import ERRORS, FakeProducer, batch, raw
from tests.unit.test_router import producer as producer  # the fixtures
from tests.unit.test_router import route as route

TRACE = 'Traceback (most recent call last):\n  File "/app/orders.py", line {line}, in load\nKeyError: 7'


def error_value(message: str, line: int = 12) -> bytes:
    """An error raised in orders.load: version 1 groups it by its message too, version 2 by the frame only."""
    return raw("ERROR", message, exception={"type": "KeyError", "stacktrace": TRACE.format(line=line)})


def record_of(value: bytes) -> dict[str, Any]:
    """What the fingerprints are computed from (service, message, exception)."""
    parsed: dict[str, Any] = orjson.loads(value)
    return parsed


def seed_version_1_group(tables: DictTables, value: bytes, count: int = 5) -> str:
    """A group as the code before grouping versions left it: no version, admitted from another partition."""
    fingerprint_1 = v1.fingerprint(record_of(value))
    tables.groups[group_key("pay", fingerprint_1)] = {
        "service": "pay", "fingerprint": fingerprint_1, "count": count, "first_seen": "2026-01-01T00:00:00.000Z",
        "last_seen": "2026-01-01T00:00:00.000Z", "title": "KeyError: old", "exception_type": "KeyError",
        "level": "ERROR", "logger": None, "last_id": "old", "_created": 0.0, "_applied": {"9": 1},
    }
    tables.state[profile_key("pay")] = {"name": "pay", "first_seen": None, "last_seen": None, "hosts": [],
                                        "totals": {"ERROR": count}, "errors_seen": count,
                                        "_groups": {fingerprint_1: [9, 1]}}
    return fingerprint_1


def counts(tables: DictTables) -> dict[str, int]:
    return {group["fingerprint"]: group["count"] for group in tables.groups.values()}


async def test_an_event_whose_version_1_group_exists_lands_in_it(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    value = error_value("Order 17 not found", line=14)
    old = seed_version_1_group(tables, error_value("Order 3 not found"))
    assert old == v1.fingerprint(record_of(value)) != fingerprint(record_of(value))
    await route(batch([value]))
    assert counts(tables) == {old: 6}, "no version-2 group beside it"
    assert [error["fingerprint"] for error in producer.to(ERRORS)] == [old]
    assert "grouping_version" not in tables.groups[group_key("pay", old)], "made before versions: version 1"


async def test_a_new_event_gets_a_current_version_group(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    old = seed_version_1_group(tables, error_value("Order 3 not found"))
    value = error_value("Cart 17 missing")  # version 1 reads the message: not the old group's
    await route(batch([value]))
    new = fingerprint(record_of(value))
    assert counts(tables) == {old: 5, new: 1}
    assert tables.groups[group_key("pay", new)]["grouping_version"] == GROUPING_VERSION == 2
    assert [error["fingerprint"] for error in producer.to(ERRORS)] == [new]


async def test_events_keep_their_old_group_after_a_new_version_group_exists(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    """Version 2 merges what version 1 kept apart: the old group still gets its own events, no split."""
    old = seed_version_1_group(tables, error_value("Order 3 not found"))
    values = [error_value("Cart 17 missing"), error_value("Order 4 not found"), error_value("Cart 18 missing")]
    assert len({fingerprint(record_of(value)) for value in values}) == 1, "one group in version 2"
    await route(batch(values))
    new = fingerprint(record_of(values[0]))
    assert counts(tables) == {old: 6, new: 2}
    assert [error["fingerprint"] for error in producer.to(ERRORS)] == [new, old, new]


async def test_a_replayed_batch_chooses_the_same_groups_and_counts_nothing_twice(
        route: router.Router, tables: DictTables, producer: FakeProducer) -> None:
    old = seed_version_1_group(tables, error_value("Order 3 not found"))
    values = [error_value("Cart 17 missing"), error_value("Order 4 not found"), error_value("Cart 18 missing"),
              raw("ERROR", "no stack 1"), raw("ERROR", "no stack 2")]
    await route(batch(values))
    before = tables.snapshot()
    first = [error["fingerprint"] for error in producer.to(ERRORS)]
    await route(batch(values))
    assert tables.snapshot() == before, "each group's cell and the admitted list as they were"
    assert [error["fingerprint"] for error in producer.to(ERRORS)] == first * 2, "forwarded as before"
    assert counts(tables)[old] == 6 and sum(counts(tables).values()) == 5 + len(values)


def test_at_the_group_cap_an_old_group_still_counts_and_a_new_one_overflows(tables: DictTables) -> None:
    old = seed_version_1_group(tables, error_value("Order 3 not found"))
    changes = tables.changes(0, service_cap=10, group_cap=1)
    chosen = []
    for offset, value in enumerate([error_value("Order 4 not found"), raw("ERROR", "Cart 17 missing")]):
        own = changes.group_of("pay", fingerprint_candidates(record_of(value)))
        chosen.append(changes.grouped_as("pay", own, offset))
    assert chosen == [old, OVERFLOW_FINGERPRINT]


def test_the_current_version_is_the_last_candidate_and_the_default() -> None:
    record = record_of(error_value("Order 17 not found"))
    candidates = fingerprint_candidates(record)
    assert [candidate.version for candidate in candidates] == [1, 2]
    assert candidates[0].fingerprint == v1.fingerprint(record) and candidates[-1].fingerprint == fingerprint(record)
