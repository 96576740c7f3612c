"""The read side: each worker's partial answers for the partitions it owns merge into the one-worker answer.

Tables are dicts (tests/unit/dict_tables.py) filled through ``Changes`` as the router fills them;
a partial crosses to the asking worker as JSON (web/cluster.py), so merges get JSON round trips.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from logmonitor.pipeline.tables.service_registry import OVERFLOW
from logmonitor.read import queries
from logmonitor.read.partials import PARTIALS, alert_query, error_query
from logmonitor.read.queries import ErrorQuery
from logmonitor.settings import Settings
from logmonitor.web.errors import BadParameter
from logmonitor.window import WINDOW_SECONDS
from tests.unit.dict_tables import MINUTE, DictTables, apply_batch, record

SETTINGS = Settings()


def counts_of(tables: DictTables, since: float, until: float, **filters: Any) -> Any:
    """``window_counts`` of the tables with the default window retention."""
    return queries.window_counts(tables.tables, since, until, retention=SETTINGS.window_retention, **filters)

PARTITIONS = ({0}, {1})


def fill(tables: DictTables) -> None:
    """Two partitions, each admitting one service; the others go to each partition's overflow bucket."""
    apply_batch(tables.changes(0, service_cap=1, group_cap=10),
                [(0, "pay", "INFO"), (1, "pay", "ERROR"), (2, "spam", "ERROR"), (3, "pay", "CRITICAL")], (4,))
    apply_batch(tables.changes(1, service_cap=1, group_cap=10),
                [(0, "shop", "ERROR"), (1, "junk", "WARNING"), (2, "junk", "ERROR"), (3, "shop", "INFO")], (4, 5))


def over_the_wire(partial: Any) -> Any:
    """A partial as another worker's answer reaches the merging one."""
    return orjson.loads(orjson.dumps(partial, option=orjson.OPT_NON_STR_KEYS))


def test_profiles_of_all_partitions_merge_into_one_answer_with_one_overflow_service(tables: DictTables) -> None:
    fill(tables)
    whole = queries.profiles(tables.tables)
    assert set(whole) == {"pay", "shop", OVERFLOW}
    assert whole[OVERFLOW]["totals"] == {"ERROR": 2, "WARNING": 1} and whole[OVERFLOW]["errors_seen"] == 2
    merged = queries.merge_profiles(over_the_wire(queries.profiles(tables.tables, p)) for p in PARTITIONS)
    assert merged == over_the_wire(whole)
    assert not any(name.startswith("_") for profile in whole.values() for name in profile), "no bookkeeping"


def test_window_counts_merge_across_workers_and_json(tables: DictTables) -> None:
    fill(tables)
    whole = counts_of(tables, MINUTE - 60, MINUTE + 60)
    assert whole == {"pay": {"INFO": {int(MINUTE): 1}, "ERROR": {int(MINUTE): 1}, "CRITICAL": {int(MINUTE): 1}},
                     "shop": {"ERROR": {int(MINUTE): 1}, "INFO": {int(MINUTE): 1}},
                     OVERFLOW: {"ERROR": {int(MINUTE): 2}, "WARNING": {int(MINUTE): 1}}}
    partials = [over_the_wire(counts_of(tables, MINUTE - 60, MINUTE + 60, partitions=p)) for p in PARTITIONS]
    assert queries.merge_counts(partials) == whole
    assert counts_of(tables, MINUTE - 60, MINUTE + 60, service="pay") == {"pay": whole["pay"]}
    assert counts_of(tables, MINUTE + WINDOW_SECONDS, MINUTE + 120) == {}, "until is exclusive of the past"
    assert counts_of(tables, MINUTE - 60, MINUTE) == {}, "a window starting at until is left out"


def test_windows_past_the_retention_are_left_out(tables: DictTables) -> None:
    tables.windows["pay", 0.0] = {"INFO": 3, "_wm": {"0": 1}}  # 1970: long expired, not swept yet
    assert counts_of(tables, 0, MINUTE + 60) == {}


def test_recent_errors_merge_newest_first_and_name_the_overflow_service(tables: DictTables) -> None:
    fill(tables)
    whole = queries.recent_errors(tables.tables, ErrorQuery(limit=10))
    assert sorted(error["service"] for error in whole) == sorted(["pay", "pay", OVERFLOW, "shop", OVERFLOW])
    keys = [(error["timestamp"], error["seq"], error["id"]) for error in whole]
    assert keys == sorted(keys, reverse=True)
    partials = [over_the_wire(queries.recent_errors(tables.tables, ErrorQuery(limit=3), p)) for p in PARTITIONS]
    assert queries.merge_newest(partials, 3) == over_the_wire(whole[:3])


def test_error_filters(tables: DictTables) -> None:
    fill(tables)

    def ids(**filters: Any) -> list[str]:
        return sorted(error["id"] for error in queries.recent_errors(tables.tables, ErrorQuery(**filters)))

    assert ids(service="pay") == ["pay-1", "pay-3"]
    assert ids(service=OVERFLOW) == ["junk-2", "spam-2"]
    assert ids(level="CRITICAL") == ["pay-3"]
    assert ids(q="KEYERR") == ids() and ids(q="M3") == ["pay-3"] and ids(q="nowhere") == []
    assert ids(since=record(0, "x", "INFO", MINUTE + 60)["timestamp"]) == []
    assert ids(until=record(0, "x", "INFO", MINUTE - 60)["timestamp"]) == []
    assert len(ids(limit=2)) == 2


def test_groups_and_invalid_totals_merge(tables: DictTables) -> None:
    fill(tables)
    whole = queries.groups(tables.tables, limit=10)
    assert sorted((group["service"], group["count"]) for group in whole) == [
        ("_overflow", 1), ("_overflow", 1), ("pay", 2), ("shop", 1)]
    partials = (over_the_wire(queries.groups(tables.tables, limit=10, partitions=p)) for p in PARTITIONS)
    merged = queries.merge_newest(partials, 10, key="last_seen")
    assert sorted(map(orjson.dumps, merged)) == sorted(map(orjson.dumps, over_the_wire(whole)))
    assert [group["service"] for group in queries.groups(tables.tables, "pay")] == ["pay"]
    assert queries.invalid_total(tables.tables) == 3 == sum(queries.invalid_total(tables.tables, p) for p in PARTITIONS)
    assert queries.error_total({"a": {"ERROR": 2, "CRITICAL": 1, "INFO": 5}, "b": {"WARNING": 1}}) == 3


def test_the_partials_answer_for_the_partitions_asked(tables: DictTables) -> None:
    fill(tables)
    context: Any = SimpleNamespace(tables=tables.tables, settings=SETTINGS)
    assert set(PARTIALS["summary"](context, {}, {0})["profiles"]) == {"pay", OVERFLOW}
    assert PARTIALS["summary"](context, {}, None)["invalid_records"] == 3
    assert [e["id"] for e in PARTIALS["errors"](context, {"service": "shop"}, None)] == ["shop-0"]
    assert [g["service"] for g in PARTIALS["groups"](context, {"service": "shop", "limit": "5"}, {1})] == ["shop"]
    counts = PARTIALS["counts"](context, {"since": str(int(MINUTE - 60)), "until": str(int(MINUTE + 60))}, {1})
    assert set(counts) == {"shop", OVERFLOW}


@pytest.mark.parametrize(("query", "message"), [
    ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since must not be after until"),
    ({"level": "LOUD"}, "level"),
    ({"limit": "0"}, "limit"),
    ({"since": "yesterday"}, "since"),
])
def test_bad_error_filters_are_refused(query: dict[str, str], message: str) -> None:
    with pytest.raises(BadParameter, match=message):
        error_query(query)


def test_error_filters_are_parsed() -> None:
    parsed = error_query({"level": "error", "limit": "7", "q": "boom", "since": "2026-01-01T00:00:00Z"},
                         service="pay")
    assert parsed == ErrorQuery(service="pay", level="ERROR", since="2026-01-01T00:00:00.000Z", q="boom", limit=7)
    assert alert_query({"status": "firing"}).status == "firing"
    with pytest.raises(BadParameter, match="firing or resolved"):
        alert_query({"status": "sleeping"})
