"""Triage wired to the tables: group states written by batches and commands, the groups list and detail, group ids.

Tables are dicts (tests/unit/dict_tables.py) filled through ``Changes`` as the router fills them;
partials cross to the asking worker as JSON, so merges get JSON round trips.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest

from logmonitor.alerts.rules import parse_rules
from logmonitor.alerts.triage_rules import observe_triage
from logmonitor.pipeline.status_commands import apply_status_command, wait_for_group
from logmonitor.pipeline.tables.group_states import group_id, split_group_id, state_key
from logmonitor.read import group_triage
from logmonitor.read.group_triage import GroupQuery, group_query, group_with_detail, merge_group_lists
from logmonitor.triage.commands import parse_patch
from logmonitor.triage.escalation import ESCALATION
from logmonitor.web.errors import BadParameter
from tests.unit.dict_tables import DictTables, apply_batch, record

NOW = time.time()


def fill(tables: DictTables) -> None:
    """Partition 0: two errors of pay and one of shop; partition 1: one of ship."""
    apply_batch(tables.changes(0), [(0, "pay", "ERROR"), (1, "pay", "CRITICAL"), (2, "shop", "ERROR"),
                                    (3, "shop", "INFO")])
    apply_batch(tables.changes(1), [(0, "ship", "ERROR")])


def command(tables: DictTables, service: str, body: dict[str, Any], offset: int, partition: int = 0) -> bool:
    """Apply a PATCH ``body`` for ``service``'s group as the command agent does."""
    made = parse_patch(orjson.dumps(body), group=group_id(service, f"fp-{service}"), service=service, current="new",
                       who="ops", now=NOW, request_id=f"r{offset}")
    return apply_status_command(tables.tables, orjson.dumps(made.as_message()), partition, offset)


def listing(tables: DictTables, partitions: set[int] | None = None, **params: str) -> dict[str, Any]:
    query = group_query(params)
    partial = group_triage.group_list(tables.tables, query, partitions, NOW, ESCALATION)
    return merge_group_lists([orjson.loads(orjson.dumps(partial))], query)


def test_group_ids_are_url_safe_and_map_back_to_service_and_fingerprint() -> None:
    for service in ("pay", "a/b c?d#é", "x\x1fy", "_overflow/3", "s" * 256):
        made = group_id(service, "0123abcd")
        assert made.replace("-", "").replace("_", "").isalnum() and len(made) <= 512
        assert split_group_id(made) == (service, "0123abcd")
    for hostile in ("", "**", "cGF5", group_id("pay", "fp") + "=", group_id("pay", "fp") + "A", "A" * 513, "%2F"):
        assert split_group_id(hostile) is None, hostile


def test_a_batch_writes_each_error_groups_state_once_and_a_replay_changes_nothing(tables: DictTables) -> None:
    fill(tables)
    assert tables.writes["group_states"] == 3, "one write per group and batch"
    before = tables.snapshot()
    apply_batch(tables.changes(0), [(0, "pay", "ERROR"), (1, "pay", "CRITICAL")])
    assert tables.snapshot() == before
    state = tables.group_states[state_key("pay", "fp-pay")]
    assert state["status"] == "unresolved" and sum(n for _start, n in state["counts"]["h"]) == 2
    assert state_key("shop", "fp-shop") in tables.group_states and len(tables.group_states) == 3, "INFO has none"


def test_commands_change_the_state_once_and_events_reopen_a_resolved_group(tables: DictTables) -> None:
    fill(tables)
    assert command(tables, "pay", {"status": "resolved"}, offset=0)
    assert not command(tables, "pay", {"status": "resolved"}, offset=0), "the same command read again"
    apply_batch(tables.changes(0), [(4, "pay", "ERROR")])
    history = tables.group_states[state_key("pay", "fp-pay")]["history"]
    assert [(entry["to"], entry["why"], entry["who"]) for entry in history] == [
        ("resolved", "request", "ops"), ("unresolved", "regression", "logmonitor")]


def test_a_command_applied_while_a_batch_is_open_is_kept_when_the_batch_writes(tables: DictTables) -> None:
    fill(tables)
    changes = tables.changes(0)
    one = record(6, "pay", "ERROR")
    changes.apply_record(one, 6, 100)
    command(tables, "pay", {"status": "resolved"}, offset=0)  # the router awaits between applying and writing
    changes.write()
    history = tables.group_states[state_key("pay", "fp-pay")]["history"]
    assert [entry["why"] for entry in history] == ["request", "regression"]


def test_commands_that_are_not_commands_or_name_no_group_here_are_skipped(tables: DictTables) -> None:
    fill(tables)
    before = tables.snapshot()
    assert not apply_status_command(tables.tables, b"not json", 0, 0)
    assert not apply_status_command(tables.tables, b'{"to": "resolved"}', 0, 1)
    assert not command(tables, "gone", {"status": "resolved"}, offset=2), "a group this worker does not hold"
    assert tables.snapshot() == before


async def test_a_command_read_again_before_its_group_is_counted_again_waits_for_it(tables: DictTables) -> None:
    made = parse_patch(orjson.dumps({"status": "resolved"}), group=group_id("pay", "fp-pay"), service="pay",
                       current="new", who="ops", now=NOW, request_id="r0")
    value = orjson.dumps(made.as_message())
    waiting = asyncio.create_task(wait_for_group(tables.tables, value))
    await asyncio.sleep(0.12)  # over two of its checks
    assert not waiting.done(), "the group is not counted yet"
    fill(tables)  # the router counts the group's record again
    assert await asyncio.wait_for(waiting, 5)
    assert apply_status_command(tables.tables, value, 0, 0), "and the command is applied, not skipped"
    assert not await wait_for_group(tables.tables, b"not json")
    gone = parse_patch(orjson.dumps({"status": "resolved"}), group=group_id("gone", "fp-gone"), service="gone",
                       current="new", who="ops", now=NOW, request_id="r1")
    assert not await wait_for_group(tables.tables, orjson.dumps(gone.as_message()), seconds=0.05), "bounded"


def test_the_list_filters_by_status_service_and_text_and_counts_every_status(tables: DictTables) -> None:
    fill(tables)
    command(tables, "pay", {"status": "ignored", "ignore": {"count": 5}}, offset=0)
    whole = listing(tables)
    assert {group["service"] for group in whole["groups"]} == {"ship", "shop", "pay"} and whole["count"] == 3
    assert whole["total"] == 3 and whole["by_status"]["new"] == 2 and whole["by_status"]["ignored"] == 1
    pay = listing(tables, status="ignored")["groups"]
    assert [group["id"] for group in pay] == [group_id("pay", "fp-pay")]
    assert pay[0]["status"] == "ignored" and pay[0]["ignore"] == {"count": 5, "seen": 0}
    assert sum(pay[0]["sparkline"]) == 2 and pay[0]["hosts"] == ["h1"] and not any(k.startswith("_") for k in pay[0])
    assert {g["service"] for g in listing(tables, status="new")["groups"]} == {"shop", "ship"}
    assert [g["service"] for g in listing(tables, service="shop")["groups"]] == ["shop"]
    assert {g["service"] for g in listing(tables, q="FP-SH")["groups"]} == {"shop", "ship"}
    assert [g["service"] for g in listing(tables, sort="count", limit="1")["groups"]] == ["pay"]


def test_workers_partials_merge_into_the_one_worker_answer(tables: DictTables) -> None:
    fill(tables)
    for params in ({}, {"sort": "trend"}, {"status": "unresolved", "limit": "2"}, {"sort": "first_seen"}):
        query = group_query(params)
        partials = [orjson.loads(orjson.dumps(group_triage.group_list(tables.tables, query, part, NOW, ESCALATION)))
                    for part in ({0}, {1})]
        assert merge_group_lists(partials, query) == listing(tables, **params), params


def test_pages_follow_each_other_by_cursor_without_gaps_or_repeats_in_every_order(tables: DictTables) -> None:
    for n in range(12):
        apply_batch(tables.changes(n % 2), [(i, f"svc{n}", "ERROR") for i in range(n % 4 + 1)])
    command(tables, "svc3", {"status": "resolved"}, offset=0, partition=1)
    for params in ({}, {"sort": "count"}, {"sort": "trend"}, {"sort": "first_seen"}, {"status": "unresolved"}):
        whole = listing(tables, **params)
        pages, after = [], None
        while True:
            page = listing(tables, **params, limit="5", **({"after": after} if after else {}))
            assert page["total"] == whole["total"] and page["by_status"] == whole["by_status"], "counts of all pages"
            pages.append([group["id"] for group in page["groups"]])
            after = page["next"]
            if after is None:
                break
        assert [len(ids) for ids in pages][:-1] == [5] * (len(pages) - 1) and len(pages[-1]) < 5, params
        assert [one for ids in pages for one in ids] == [group["id"] for group in whole["groups"]], params
        assert whole["next"] is None, "the page holds every group"


@pytest.mark.parametrize("params", [{"status": "fixed"}, {"sort": "title"}, {"limit": "0"}, {"q": "x" * 300},
                                    {"after": "x" * 601}, {"after": "abc~id", "sort": "count"},
                                    {"after": "\u00b2~id", "sort": "count"}, {"after": "3~id", "sort": "trend"},
                                    {"after": "~id"}, {"after": "t" * 41 + "~id"}])
def test_bad_list_parameters_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(BadParameter):
        group_query(params)


def test_the_detail_has_counts_history_and_the_groups_latest_events_from_the_owner_only(tables: DictTables) -> None:
    fill(tables)
    command(tables, "pay", {"status": "resolved"}, offset=0)
    detail = group_with_detail(tables.tables, "pay", "fp-pay", {0}, NOW, ESCALATION)
    assert detail is not None and detail["status"] == "resolved" and detail["partition"] == 0
    assert len(detail["hourly"]) == 24 and len(detail["daily"]) == 14 and sum(b["count"] for b in detail["daily"]) == 2
    assert [entry["to"] for entry in detail["history"]] == ["resolved"] and detail["commands_applied"] == {"0": 0}
    assert [event["id"] for event in detail["events"]] == ["pay-1", "pay-0"], "newest first, this group's only"
    assert group_with_detail(tables.tables, "pay", "fp-pay", {1}, NOW, ESCALATION) is None, "another worker's"
    assert group_with_detail(tables.tables, "pay", "fp-other", None, NOW, ESCALATION) is None


def test_the_regression_rule_sees_each_reopening_once_with_the_group_as_example(tables: DictTables) -> None:
    fill(tables)
    rule = parse_rules("rules: [{name: back, kind: regression}]", "test").rules[0]
    command(tables, "pay", {"status": "resolved"}, offset=0)
    apply_batch(tables.changes(0), [(5, "pay", "ERROR")])
    groups = [cell for cell in tables.groups.values() if cell["service"] == "pay"]
    seen, kept = observe_triage(tables.tables, rule, groups, "pay", {}, now=time.time(), first_look=NOW - 300)
    assert seen.new == 1 and seen.example is not None and seen.example["id"] == group_id("pay", "fp-pay")
    again, _kept = observe_triage(tables.tables, rule, groups, "pay", kept, now=time.time(), first_look=NOW - 300)
    assert again.new == 0
    only_critical = parse_rules("rules: [{name: b, kind: regression, levels: [CRITICAL]}]", "t").rules[0]
    assert observe_triage(tables.tables, only_critical, groups, "pay", {}, now=time.time(),
                          first_look=NOW - 300)[0].new == 0, "the group's level is ERROR"


def test_a_group_query_is_a_plain_value() -> None:
    assert group_query({}) == GroupQuery()
    assert group_query({"after": "2026-01-01T00:00:00Z~abc"}).after == ("2026-01-01T00:00:00Z", "abc")
    assert group_query({"after": "7,2026-01-01T00:00:00Z~abc", "sort": "trend"}).after == (
        (7, "2026-01-01T00:00:00Z"), "abc")
