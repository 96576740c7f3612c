"""Releases and environments of groups and services (issue 28 items 2 and 3), and the trace filter (item 5).

The tables are dicts (tests/unit/dict_tables.py) filled through ``Changes`` as the router fills
them; partials cross to the asking worker as JSON, so merges get JSON round trips.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest

from logmonitor.alerts.rules import parse_rules
from logmonitor.alerts.triage_rules import observe_triage
from logmonitor.alerts.wording import describe
from logmonitor.pipeline.tables.service_state import releases_key
from logmonitor.read import group_triage
from logmonitor.read.group_index import GroupIndexes
from logmonitor.read.group_triage import group_query, group_with_detail, merge_group_lists
from logmonitor.read.partials import error_query
from logmonitor.read.queries import ErrorQuery, recent_errors
from logmonitor.read.releases import merge_releases, release_partial, release_query
from logmonitor.triage.escalation import ESCALATION
from logmonitor.triage.releases import (
    GROUP_ENVIRONMENTS,
    GROUP_RELEASES,
    SERVICE_RELEASES,
    add_release_counts,
    note_group_release,
    shown_releases,
)
from logmonitor.web.errors import BadParameter
from tests.unit.dict_tables import DictTables, record
from tests.unit.test_group_triage import command

NOW = time.time()


def error(offset: int, service: str, fingerprint: str, release: str | None, environment: str | None = None,
          **fields: Any) -> dict[str, Any]:
    return {**record(offset, service, "ERROR"), "fingerprint": fingerprint, "release": release,
            "environment": environment, **fields}


def apply(tables: DictTables, partition: int, records: list[tuple[int, dict[str, Any]]]) -> None:
    changes = tables.changes(partition)
    for offset, one in records:
        changes.apply_record(one, offset, 100)
    changes.write()


def two_releases(tables: DictTables) -> None:
    """pay 1.0 fails with fp-pay (resolved), then 2.0 brings fp-pay back and fails anew with fp-new."""
    apply(tables, 0, [(0, error(0, "pay", "fp-pay", "1.0", "production")),
                      (1, {**record(1, "pay", "INFO"), "release": "1.0"})])
    command(tables, "pay", {"status": "resolved"}, offset=0)
    apply(tables, 0, [(2, error(2, "pay", "fp-pay", "2.0", "production")),
                      (3, error(3, "pay", "fp-new", "2.0", "staging"))])


def listing(tables: DictTables, **params: str) -> dict[str, Any]:
    query = group_query(params)
    partial = group_triage.group_list(tables.tables, query, None, time.time(), ESCALATION)
    return merge_group_lists([orjson.loads(orjson.dumps(partial))], query)


def releases(tables: DictTables, partitions: set[int] | None = None, **params: str) -> dict[str, Any]:
    query = release_query(params)
    partial = asyncio.run(release_partial(GroupIndexes(), tables.tables, query, partitions, time.time(), ESCALATION))
    return merge_releases([orjson.loads(orjson.dumps(partial))], query)


def test_a_group_keeps_its_first_and_last_release_and_the_latest_releases_with_counts() -> None:
    cell: dict[str, Any] = {}
    for n in range(GROUP_RELEASES + 5):
        note_group_release(cell, f"r{n}", f"env{n}")
    note_group_release(cell, "r10", None)
    note_group_release(cell, None, None)
    assert (cell["first_release"], cell["last_release"]) == ("r0", "r10")
    shown = shown_releases(cell)
    assert len(shown) == GROUP_RELEASES and shown[0] == {"release": "r10", "count": 2}
    assert [entry["release"] for entry in shown][-1] == "r5", "the oldest ones went"
    assert cell["environments"] == [f"env{n}" for n in range(GROUP_ENVIRONMENTS)], "the first seen, bounded"
    assert shown_releases({}) == [], "a cell from before releases"


def test_a_service_keeps_its_latest_releases_and_drops_the_one_seen_longest_ago() -> None:
    cell: dict[str, Any] = {}
    for n in range(SERVICE_RELEASES + 1):
        at = f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000Z"
        add_release_counts(cell, f"r{n}", at, at, 1, n % 2)
    add_release_counts(cell, "r1", "2025-12-31T00:00:00.000Z", "2025-12-31T00:00:00.000Z", 1, 1)
    assert len(cell["releases"]) == SERVICE_RELEASES and "r0" not in cell["releases"]
    assert cell["releases"]["r1"] == {"first_seen": "2025-12-31T00:00:00.000Z", "last_seen": "2026-01-01T00:00:01.000Z",
                                      "records": 2, "errors": 2}


def test_releases_are_counted_once_and_the_stored_cells_are_never_changed_in_place(tables: DictTables) -> None:
    apply(tables, 0, [(0, error(0, "pay", "fp-pay", "1.0", "production"))])
    stored = tables.snapshot()
    apply(tables, 0, [(0, error(0, "pay", "fp-pay", "1.0", "production")),
                      (1, error(1, "pay", "fp-pay", "1.1", "production"))])
    assert stored["groups"]["pay\x1ffp-pay"]["releases"] == [["1.0", 1]], "the first batch's cell as it was written"
    assert stored["state"][releases_key("pay")]["releases"]["1.0"]["records"] == 1
    group = tables.groups["pay\x1ffp-pay"]
    assert group["releases"] == [["1.0", 1], ["1.1", 1]] and group["environments"] == ["production"]
    assert sorted(tables.state[releases_key("pay")]["releases"]) == ["1.0", "1.1"]
    apply(tables, 0, [(2, record(2, "pay", "INFO"))])
    assert tables.groups["pay\x1ffp-pay"]["last_release"] == "1.1", "a record without a release changes none"


def test_two_releases_the_view_the_filters_the_detail_and_the_regression_alert_say_what_each_brought(
        tables: DictTables) -> None:
    two_releases(tables)
    answer = releases(tables, service="pay")
    assert [(r["release"], r["records"], r["errors"], r["new"], r["regressed"]) for r in answer["releases"]] == [
        ("2.0", 2, 2, 1, 1), ("1.0", 2, 1, 1, 0)], "newest first"
    assert answer["total"] == 2 and answer["next"] is None
    first_page = releases(tables, service="pay", limit="1")
    assert [r["release"] for r in first_page["releases"]] == ["2.0"] and first_page["next"]
    second_page = releases(tables, service="pay", limit="1", after=first_page["next"])
    assert [r["release"] for r in second_page["releases"]] == ["1.0"] and second_page["next"] is None
    assert releases(tables, {1}, service="pay")["releases"] == [], "another worker's service"
    assert releases(tables, service="ship")["releases"] == []

    def fingerprints(**params: str) -> list[str]:
        return sorted(group["fingerprint"] for group in listing(tables, **params)["groups"])

    assert fingerprints(release="2.0") == ["fp-new", "fp-pay"] and fingerprints(release="1.0") == ["fp-pay"]
    assert fingerprints(environment="staging") == ["fp-new"] and fingerprints(release="9") == []
    assert listing(tables, release="1.0", q="keyerror", environment="production")["total"] == 1
    assert listing(tables, release="2.0", status="regressed")["by_status"]["regressed"] == 1
    back = group_with_detail(tables.tables, "pay", "fp-pay", None, time.time(), ESCALATION)
    assert back is not None and back["status"] == "regressed" and back["regressed_in"] == "2.0"
    assert (back["first_release"], back["last_release"]) == ("1.0", "2.0")
    assert back["releases"] == [{"release": "2.0", "count": 1}, {"release": "1.0", "count": 1}]
    assert back["history"][-1]["why"] == "regression" and back["history"][-1]["release"] == "2.0"

    rule = parse_rules("rules: [{name: back, kind: regression}]", "test").rules[0]
    groups = [cell for cell in tables.groups.values() if cell["service"] == "pay"]
    seen, _kept = observe_triage(tables.tables, rule, groups, "pay", {}, now=time.time(), first_look=NOW - 300)
    assert seen.new == 1 and seen.example is not None and seen.example["regressed_in"] == "2.0"
    title, _text = describe(rule, "firing", "pay", value=1, count=1, follow_up=False, example=seen.example)
    assert title == "1 error group back in pay in release 2.0"


def test_groups_and_states_written_before_releases_still_list_and_filter(tables: DictTables) -> None:
    apply(tables, 0, [(0, error(0, "pay", "fp-pay", None))])
    for cell in tables.groups.values():
        for field in ("first_release", "last_release", "releases", "environments"):
            cell.pop(field, None)
    listed = listing(tables)["groups"]
    assert listed[0]["releases"] == [] and listed[0]["first_release"] is None and listed[0]["regressed_in"] is None
    assert listing(tables, release="1.0")["groups"] == []


def test_the_trace_filter_returns_one_traces_errors_of_every_service(tables: DictTables) -> None:
    apply(tables, 0, [(0, error(0, "pay", "fp-pay", None, trace_id="t1", request_id="q1")),
                      (1, error(1, "pay", "fp-pay", None, trace_id="t2"))])
    apply(tables, 1, [(0, error(0, "ship", "fp-ship", None, trace_id="t1"))])
    trace = recent_errors(tables.tables, ErrorQuery(trace_id="t1"))
    assert sorted(found["service"] for found in trace) == ["pay", "ship"]
    assert [found["id"] for found in recent_errors(tables.tables, ErrorQuery(request_id="q1"))] == ["pay-0"]
    assert error_query({"trace_id": "t1", "request_id": "q1"}) == ErrorQuery(trace_id="t1", request_id="q1")


@pytest.mark.parametrize("params", [{}, {"service": "s" * 257}, {"service": "pay", "limit": "0"},
                                    {"service": "pay", "limit": "201"}, {"service": "pay", "after": "no-tilde"},
                                    {"service": "pay", "after": "~1.0"}, {"service": "pay", "after": "t~"},
                                    {"service": "pay", "after": "t" * 41 + "~1.0"}])
def test_bad_release_parameters_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(BadParameter):
        release_query(params)


@pytest.mark.parametrize("params", [{"release": "r" * 257}, {"environment": "e" * 257}])
def test_bad_group_filters_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(BadParameter):
        group_query(params)


@pytest.mark.parametrize("params", [{"trace_id": "t" * 1025}, {"request_id": "r" * 1025}])
def test_bad_trace_filters_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(BadParameter):
        error_query(params)


def test_the_shared_index_keeps_its_release_and_environment_selections_up_to_date(tables: DictTables) -> None:
    indexes = GroupIndexes()

    def shown(**params: str) -> tuple[list[str], int]:
        query = group_query(params)
        partial = asyncio.run(group_triage.shared_group_list(indexes, tables.tables, query, None, time.time(),
                                                             ESCALATION))
        answer = merge_group_lists([partial], query)
        return sorted(group["fingerprint"] for group in answer["groups"]), answer["total"]

    two_releases(tables)
    assert shown(release="2.0") == (["fp-new", "fp-pay"], 2) and shown(environment="staging") == (["fp-new"], 1)
    apply(tables, 0, [(4, error(4, "pay", "fp-new", "3.0", "production")),
                      (5, error(5, "pay", "fp-other", "3.0", "staging"))])
    assert shown(release="3.0") == (["fp-new", "fp-other"], 2)
    assert shown(environment="staging") == (["fp-new", "fp-other"], 2), "a selection made before the change"
    assert shown(release="2.0", environment="production") == (["fp-new", "fp-pay"], 2)
