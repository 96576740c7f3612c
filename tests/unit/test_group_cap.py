"""The cap on error groups per service: decided from the profile alone, the same on a replay; expiry frees slots.

The tables are replaced by dicts here (tests/unit/dict_tables.py); the real tables, their
changelogs and a real worker are covered by tests/integration/hostile/test_group_cap.py.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from logmonitor.pipeline.aggregation import Changes
from logmonitor.pipeline.tables import expiry
from logmonitor.pipeline.tables.error_groups import group_key
from logmonitor.pipeline.tables.group_cap import OVERFLOW_FINGERPRINT, grouped_as
from logmonitor.pipeline.tables.service_state import profile_key
from logmonitor.settings import ConfigError, Settings
from tests.unit.dict_tables import DictTables

CAP = 3
NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
OLD = "2026-12-01T00:00:00.000Z"  # before NOW less the 30 days' group retention
RETENTION = timedelta(days=30)


class Tables(DictTables):
    """The tables a batch of valid errors writes, as dicts."""

    def route(self, errors: list[tuple[str, int]], partition: int = 0) -> list[str]:
        """Count one batch of errors ``(fingerprint, offset)`` of ``partition``; the fingerprints counted under."""
        changes = self.changes(partition, service_cap=10, group_cap=CAP)
        counted = self.count(changes, errors)
        changes.write()
        return counted

    @staticmethod
    def count(changes: Changes, errors: list[tuple[str, int]]) -> list[str]:
        """Count errors ``(fingerprint, offset)`` of service "pay" as the router does, not written yet."""
        counted = []
        for own, offset in errors:
            record = {"service": "pay", "level": "ERROR", "epoch": NOW, "timestamp": "2027-01-15T08:00:00.000Z",
                      "id": f"e{offset}", "message": own, "title": own, "extra": {}}
            record["fingerprint"] = changes.grouped_as("pay", own, offset)
            changes.apply_record(record, offset, 100)
            counted.append(record["fingerprint"])
        return counted

    def counts(self) -> dict[str, int]:
        return {group["fingerprint"]: group["count"] for group in self.groups.values()}

    def admitted(self) -> dict[str, int]:
        """The admitted fingerprints with the offset each was admitted at (all from partition 0 here)."""
        listed: dict[str, list[int]] = self.state[profile_key("pay")]["_groups"]
        return {name: offset for name, (_partition, offset) in listed.items()}


@pytest.fixture
def tables() -> Tables:
    return Tables()


def test_new_groups_are_admitted_until_the_cap_then_counted_in_the_overflow_group(tables: Tables) -> None:
    counted = tables.route([("a", 0), ("b", 1), ("a", 2), ("c", 3), ("d", 4), ("e", 5), ("c", 6)])
    assert counted == ["a", "b", "a", "c", OVERFLOW_FINGERPRINT, OVERFLOW_FINGERPRINT, "c"]
    assert tables.counts() == {"a": 2, "b": 1, "c": 2, OVERFLOW_FINGERPRINT: 2}
    assert tables.admitted() == {"a": 0, "b": 1, "c": 3}
    assert tables.route([("f", 7), ("b", 8)]) == [OVERFLOW_FINGERPRINT, "b"], "the next batch too"


def test_the_overflow_fingerprint_is_reserved() -> None:
    profile: dict[str, Any] = {}
    assert grouped_as(profile, -1, OVERFLOW_FINGERPRINT, 0, CAP, 0) == OVERFLOW_FINGERPRINT
    assert profile["_groups"] == {}


def test_a_batch_replayed_after_a_crash_counts_under_the_same_groups(tables: Tables) -> None:
    tables.route([("a", 0), ("b", 1)])
    before = copy.deepcopy(tables.groups)
    batch = [("x", 2), ("a", 3), ("y", 4), ("z", 5), ("x", 6)]
    first = tables.route(batch)
    assert first == ["x", "a", OVERFLOW_FINGERPRINT, OVERFLOW_FINGERPRINT, "x"]
    expected = tables.counts()
    tables.groups.clear()
    tables.groups.update(before)  # the profile's write landed, the groups' (another changelog) were lost
    assert tables.route(batch) == first
    assert tables.counts() == expected == {"a": 2, "b": 1, "x": 2, OVERFLOW_FINGERPRINT: 2}
    assert tables.route(batch) == first and tables.counts() == expected, "a second replay changes nothing"


def test_a_group_admitted_later_does_not_claim_its_earlier_overflowed_errors() -> None:
    profile: dict[str, Any] = {"_groups": {"a": [0, 0], "x": [0, 20]}}
    assert grouped_as(profile, 25, "x", 12, cap=2, partition=0) == OVERFLOW_FINGERPRINT
    assert grouped_as(profile, 25, "x", 21, cap=2, partition=0) == "x"


def test_a_group_admitted_from_another_partition_counts_this_partitions_errors(tables: Tables) -> None:
    assert tables.route([("a", 100)], partition=0) == ["a"]
    assert tables.route([("a", 0), ("b", 1)], partition=1) == ["a", "b"], "offset 0 of partition 1 is not before 100"
    assert tables.counts() == {"a": 2, "b": 1}


def test_an_expired_group_frees_its_slot(tables: Tables) -> None:
    tables.route([("a", 0), ("b", 1), ("c", 2)])
    tables.groups[group_key("pay", "b")]["last_seen"] = OLD
    assert expiry.drop_unseen_groups(tables.tables, list(tables.groups.values()), RETENTION, NOW) == 1
    assert tables.admitted() == {"a": 0, "c": 2}
    assert tables.route([("d", 1), ("d", 3), ("e", 4)]) == [OVERFLOW_FINGERPRINT, "d", OVERFLOW_FINGERPRINT], (
        "offset 1, already decided, stays where it was counted; the freed slot goes to the next new group")
    assert tables.admitted() == {"a": 0, "c": 2, "d": 3}


def test_a_slot_expiry_frees_while_a_batch_runs_stays_free(tables: Tables) -> None:
    tables.route([("a", 0), ("b", 1), ("c", 2)])
    changes = tables.changes(0, service_cap=10, group_cap=CAP)
    assert tables.count(changes, [("c", 3)]) == ["c"], "the batch holds a copy of the profile listing a, b, c"
    for fingerprint in ("b", "c"):
        tables.groups[group_key("pay", fingerprint)]["last_seen"] = OLD
    assert expiry.drop_unseen_groups(tables.tables, list(tables.groups.values()), RETENTION, NOW) == 2
    changes.write()
    assert set(tables.counts()) == {"a", "c"}, "the batch wrote c's group again"
    assert tables.admitted() == {"a": 0, "c": 2}, "b's slot stays free; c, which has a group, stays listed"


def test_a_group_written_again_after_the_housekeeping_read_it_is_not_dropped(tables: Tables) -> None:
    """The housekeeping reads every group once a tick, then gives the loop back between partitions."""
    tables.route([("a", 0), ("b", 1)])
    for fingerprint in ("a", "b"):
        tables.groups[group_key("pay", fingerprint)]["last_seen"] = OLD
    read = copy.deepcopy(list(tables.groups.values()))  # what the tick read: both unseen for 30 days
    tables.route([("b", 2)])  # the router counts b again meanwhile
    assert expiry.drop_unseen_groups(tables.tables, read, RETENTION, NOW) == 1
    assert set(tables.counts()) == {"b"}
    assert tables.admitted() == {"b": 1}


def test_a_service_counted_again_after_the_housekeeping_read_it_is_not_dropped(tables: Tables) -> None:
    tables.route([("a", 0)])
    profile = tables.state[profile_key("pay")]
    profile["last_seen"], profile["_routed_at"] = OLD, 0.0
    read = copy.deepcopy(profile)
    tables.route([("a", 1)])  # counted again: a new profile is written
    assert expiry.drop_unseen_services(tables.tables, {"pay": read}, list(tables.groups.values()), 0, RETENTION,
                                       NOW) == set()
    assert profile_key("pay") in tables.state and set(tables.counts()) == {"a"}


def test_the_group_cap_has_a_default_and_limits() -> None:
    assert Settings.from_env({}).max_groups_per_service == 1000
    assert Settings.from_env({"LOGMONITOR_MAX_GROUPS_PER_SERVICE": "10"}).max_groups_per_service == 10
    for value in ("0", "100001", "many"):
        with pytest.raises(ConfigError, match="LOGMONITOR_MAX_GROUPS_PER_SERVICE"):
            Settings.from_env({"LOGMONITOR_MAX_GROUPS_PER_SERVICE": value})


def test_an_unseen_service_goes_with_its_groups_whatever_cells_it_never_had(tables: Tables) -> None:
    """Its releases cell and its groups' triage states may not exist: a real table's pop of those raises."""
    tables.route([("a", 0), ("b", 1)])
    profile = tables.state[profile_key("pay")]
    profile["last_seen"], profile["_routed_at"] = OLD, 0.0
    groups = list(tables.groups.values())
    tables.tables.group_states.clear()  # as for groups whose events the triage has not applied yet
    assert expiry.drop_unseen_services(tables.tables, {"pay": profile}, groups, 0, RETENTION, NOW) == {"pay"}
    assert not tables.groups and profile_key("pay") not in tables.state
