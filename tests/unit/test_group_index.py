"""The groups list's index (read/group_index.py): pages exact in every order and filter, reused only while exact.

Tables are dicts (tests/unit/dict_tables.py) that count their changes as the real tables do.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from logmonitor.pipeline.tables.changed_keys import ChangedKeys
from logmonitor.pipeline.tables.group_states import group_id, state_key
from logmonitor.pipeline.tables.service_registry import public_name
from logmonitor.read import group_index
from logmonitor.read.group_index import GroupIndexes
from logmonitor.read.group_triage import GroupQuery, group_query, merge_group_lists, shared_group_list
from logmonitor.read.indexed_group import changes_at
from logmonitor.timestamps import epoch_of
from logmonitor.triage.escalation import ESCALATION, last_hour
from logmonitor.triage.view import RECENT_SECONDS, statuses
from tests.unit.dict_tables import DictTables, apply_batch
from tests.unit.test_group_triage import NOW, command, fill


def page(indexes: GroupIndexes, tables: DictTables, **params: str) -> dict[str, Any]:
    """One page as a one-worker app answers it, through the shared index."""
    query = group_query(params)
    partial = asyncio.run(shared_group_list(indexes, tables.tables, query, None, NOW, ESCALATION))
    return merge_group_lists([partial], query)


def every_group_in_order(tables: DictTables, query: GroupQuery) -> list[str]:
    """The ids the list must show, from every cell (no index): filtered, then sorted, larger first."""
    found = []
    for cell in tables.groups.values():
        state = tables.group_states.get(state_key(cell["service"], cell["fingerprint"]))
        held = statuses(state, first_seen=epoch_of(cell["first_seen"]), now=NOW, escalation=ESCALATION)
        texts = (cell.get("title") or "", cell.get("exception_type") or "", cell.get("logger") or "",
                 cell["fingerprint"], cell["service"])
        if ((query.service is None or public_name(cell["service"]) == query.service)
                and (not query.q or any(query.q.lower() in text.lower() for text in texts))
                and (query.status is None or query.status in held)):
            found.append(query.order({**cell, "id": group_id(cell["service"], cell["fingerprint"]),
                                      "last_hour": last_hour((state or {}).get("counts"), NOW)}))
    return [key[1] for key in sorted(found, reverse=True)]


def every_page(indexes: GroupIndexes, tables: DictTables, params: dict[str, str], limit: int) -> list[str]:
    """The ids of all pages, following ``next``; the counts of every page are those of all groups."""
    expected = every_group_in_order(tables, group_query(params))
    shown, after = [], None
    while True:
        answer = page(indexes, tables, **params, limit=str(limit), **({"after": after} if after else {}))
        shown += [group["id"] for group in answer["groups"]]
        assert answer["total"] == len(expected), "counts of all pages"
        if (after := answer["next"]) is None:
            return shown


_EVENTS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1)), min_size=1, max_size=10)


def apply(tables: DictTables, partition_of: dict[int, int], events: list[tuple[int, int]], resolved: set[int],
          offset: int) -> None:
    """An error of ``svc<n>`` for each event (a service keeps the partition it was first seen on), then resolves."""
    for at, (service, partition) in enumerate(events):
        apply_batch(tables.changes(partition_of.setdefault(service, partition)),
                    [(offset + at, f"svc{service}", "ERROR")])
    for at, service in enumerate(sorted(resolved & set(partition_of))):
        command(tables, f"svc{service}", {"status": "resolved"}, offset=offset + at, partition=partition_of[service])


@settings(max_examples=12, deadline=None)
@given(events=_EVENTS, later=_EVENTS, resolved=st.sets(st.integers(0, 5), max_size=2), limit=st.integers(1, 3),
       sort=st.sampled_from(["last_seen", "first_seen", "count", "trend"]),
       filters=st.sampled_from([{}, {"status": "resolved"}, {"status": "new"}, {"service": "svc1"},
                                {"q": "SVC2"}, {"q": "fp-"}, {"q": "none"}]))
def test_pages_of_the_index_are_every_matching_group_once_in_order_also_after_groups_changed(
    events: list[tuple[int, int]], later: list[tuple[int, int]], resolved: set[int], limit: int, sort: str,
    filters: dict[str, str]
) -> None:
    tables, partition_of = DictTables(), {}
    apply(tables, partition_of, events, set(), 0)
    indexes, params = GroupIndexes(), {"sort": sort, **filters}
    assert every_page(indexes, tables, params, limit) == every_group_in_order(tables, group_query(params))
    apply(tables, partition_of, later, resolved, 100)  # the index is updated where groups changed, not built again
    assert every_page(indexes, tables, params, limit) == every_group_in_order(tables, group_query(params))


def test_the_index_is_reused_until_a_write_or_its_time_and_a_status_set_shows_at_once(tables: DictTables) -> None:
    fill(tables)
    indexes = GroupIndexes()

    async def current(now: float = NOW) -> Any:
        return await indexes.current(tables.tables, None, now, ESCALATION)

    first = asyncio.run(current())
    assert asyncio.run(current()) is first, "nothing changed"
    assert asyncio.run(current(first.valid_until)) is not first, "a status or last hour may have moved"
    before = asyncio.run(current())
    command(tables, "pay", {"status": "resolved"}, offset=0)
    assert [g["service"] for g in page(indexes, tables, status="resolved")["groups"]] == ["pay"]
    after = asyncio.run(current())
    pay = state_key("pay", "fp-pay")
    assert after.groups[pay] is not before.groups[pay] and after.stale == 1, "the changed group derived again"
    assert all(after.groups[key] is group for key, group in before.groups.items() if key != pay), "the others kept"


def test_an_index_that_cannot_know_what_changed_is_built_again(tables: DictTables) -> None:
    fill(tables)
    indexes = GroupIndexes()
    first = asyncio.run(indexes.current(tables.tables, None, NOW, ESCALATION))
    tables.groups.changes.changed_unknown()  # as a changelog batch read back (recovery) notes it
    second = asyncio.run(indexes.current(tables.tables, None, NOW, ESCALATION))
    assert second.stale == 0 and all(second.groups[key] is not group for key, group in first.groups.items())


def test_requests_share_a_build_and_one_after_a_write_waits_for_a_build_that_sees_it(tables: DictTables) -> None:
    fill(tables)
    indexes = GroupIndexes()

    async def scenario() -> tuple[Any, Any, Any]:
        one = asyncio.ensure_future(indexes.current(tables.tables, None, NOW, ESCALATION))
        two = asyncio.ensure_future(indexes.current(tables.tables, None, NOW, ESCALATION))
        await asyncio.sleep(0)  # both are waiting: one builds (a slice, then the loop's turn), the other shares it
        command(tables, "pay", {"status": "resolved"}, offset=0)
        after_write = await indexes.current(tables.tables, None, NOW, ESCALATION)
        return await one, await two, after_write

    one, two, after_write = asyncio.run(scenario())
    assert one is two and after_write is not one
    assert any("resolved" in group.statuses for group in after_write.groups.values())
    assert not any("resolved" in group.statuses for group in one.groups.values())


def test_a_group_changes_with_time_at_the_next_five_minutes_when_new_ends_or_its_ignore_ends() -> None:
    now = 1_800_000_000.0  # a five-minute boundary
    assert changes_at(None, first_seen=now - 3600, now=now) == now + 300
    assert changes_at(None, first_seen=now - RECENT_SECONDS + 10, now=now) == now + 10
    assert changes_at({"ignore": {"until": now + 5}, "history": []}, first_seen=now - 3600, now=now) == now + 5
    reopened = {"history": [{"why": "regression", "at": now - RECENT_SECONDS + 20}], "ignore": None}
    assert changes_at(reopened, first_seen=now - 3600, now=now) == now + 20


def test_an_index_built_and_sorted_in_many_slices_pages_like_one_made_at_once(
    tables: DictTables, monkeypatch: Any
) -> None:
    monkeypatch.setattr(group_index, "SLICE", 2)
    for n in range(11):
        apply_batch(tables.changes(n % 2), [(i, f"svc{n}", "ERROR") for i in range(n % 3 + 1)])
    indexes = GroupIndexes()
    for sort in ("last_seen", "first_seen", "count", "trend"):
        shown, after = [], None
        while True:
            answer = page(indexes, tables, sort=sort, limit="4", **({"after": after} if after else {}))
            shown += [group["id"] for group in answer["groups"]]
            if (after := answer["next"]) is None:
                break
        assert shown == every_group_in_order(tables, group_query({"sort": sort})), sort


def test_changed_keys_are_known_since_a_generation_only_while_all_of_them_are_remembered() -> None:
    changes = ChangedKeys(kept=3)
    for key in ("a", "b", "a", "c"):
        changes.changed(key)
    assert changes.since(4) == set() and changes.since(2) == {"a", "c"} and changes.since(1) == {"a", "b", "c"}
    assert changes.since(0) is None, "the first change is forgotten"
    changes.changed_unknown()
    assert changes.since(4) is None and changes.since(5) == set()


def test_the_index_of_the_next_period_is_prepared_before_the_period_begins(
    tables: DictTables, monkeypatch: Any
) -> None:
    fill(tables)
    indexes = GroupIndexes()

    async def scenario() -> tuple[Any, Any]:
        # NOW may fall in a period's last 30 s: the first request would then prepare before the sort
        monkeypatch.setattr(group_index, "PREPARE_AHEAD", 0.0)
        first = await indexes.current(tables.tables, None, NOW, ESCALATION)
        await first.sort("last_seen")
        monkeypatch.setattr(group_index, "PREPARE_AHEAD", 30.0)
        await indexes.current(tables.tables, None, first.valid_until - 1, ESCALATION)  # starts the preparation
        for _ in range(20):
            await asyncio.sleep(0)
        command(tables, "pay", {"status": "resolved"}, offset=0)  # after it was prepared: updated into it
        return first, await indexes.current(tables.tables, None, first.valid_until + 1, ESCALATION)

    first, following = asyncio.run(scenario())
    assert following.now == first.valid_until and "last_seen" in following.orders, "prepared, and sorted as in use"
    assert "resolved" in following.groups[state_key("pay", "fp-pay")].statuses


def test_an_index_with_many_dead_entries_is_replaced_by_one_built_in_the_background(
    tables: DictTables, monkeypatch: Any
) -> None:
    monkeypatch.setattr(group_index, "SLICE", 2)
    monkeypatch.setattr(group_index, "PREPARE_AHEAD", 0.0)  # NOW in a period's last 30 s would prepare the next instead
    apply_batch(tables.changes(0), [(n, f"svc{n}", "ERROR") for n in range(40)])
    indexes = GroupIndexes()

    async def scenario() -> Any:
        for n in range(7):  # each page finds one group changed: 7 dead entries, more than an eighth of 40
            apply_batch(tables.changes(0), [(100 + n, f"svc{n}", "ERROR")])
            await shared_group_list(indexes, tables.tables, group_query({}), None, NOW, ESCALATION)
        for _ in range(100):
            await asyncio.sleep(0)  # the background build's slices
        apply_batch(tables.changes(0), [(200, "svc9", "ERROR")])  # after it began: updated into it
        return await indexes.current(tables.tables, None, NOW, ESCALATION)

    fresh = asyncio.run(scenario())
    assert fresh.stale <= 1 and "last_seen" in fresh.orders
    assert [g["id"] for g in page(indexes, tables, limit="100")["groups"]] == every_group_in_order(
        tables, group_query({}))
