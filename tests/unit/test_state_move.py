"""Moving state counted before home partitions: one value per key at its home, whatever the copies elsewhere."""

from __future__ import annotations

from typing import Any

import orjson

from logmonitor.home_partition import home_partition
from logmonitor.pipeline.tables.cells import Cell, home_of
from logmonitor.pipeline.tables.error_groups import group_key
from logmonitor.pipeline.tables.service_state import chunk_key, profile_key, registry_key
from logmonitor.pipeline.tables.state_move import Write, moves, service_of

PARTITIONS = 4
SERVICE = "pay"
HOME = home_partition(SERVICE, PARTITIONS)
AWAY = (HOME + 1) % PARTITIONS
GROUP = orjson.dumps(group_key(SERVICE, "fp1"))


def group(count: int, first: str, last: str, wm: dict[int, int], host: str = "h1") -> Cell:
    return {"service": SERVICE, "fingerprint": "fp1", "count": count, "first_seen": first, "last_seen": last,
            "hosts": [host], "level": "ERROR", "last_id": f"id-{last}", "_wm": {str(p): o for p, o in wm.items()}}


def applied(writes: list[Write], copies: dict[bytes, dict[int, Cell]]) -> dict[bytes, dict[int, Cell]]:
    """The copies after ``writes``."""
    after = {key: dict(by_partition) for key, by_partition in copies.items()}
    for write in writes:
        if write.value is None:
            after[write.key].pop(write.partition, None)
        else:
            after.setdefault(write.key, {})[write.partition] = write.value
    return after


def test_the_copy_one_worker_wrote_last_holds_the_others_and_is_the_value() -> None:
    older = group(3, "a", "c", {HOME: 10, AWAY: 4})
    latest = group(5, "a", "e", {HOME: 10, AWAY: 9})
    writes = moves("error-groups", {GROUP: {HOME: older, AWAY: latest}}, PARTITIONS)
    assert writes[0].partition == HOME and writes[0].value is not None and writes[0].value["count"] == 5
    assert home_of(writes[0].value) == HOME
    assert writes[1:] == [Write(AWAY, GROUP, None)]


def test_copies_of_several_workers_add_up() -> None:
    here, there = group(3, "b", "c", {HOME: 10}, "h1"), group(4, "a", "d", {AWAY: 7}, "h2")
    (write, delete) = moves("error-groups", {GROUP: {HOME: here, AWAY: there}}, PARTITIONS)
    assert write.value is not None and delete == Write(AWAY, GROUP, None)
    assert (write.value["count"], write.value["first_seen"], write.value["last_seen"]) == (7, "a", "d")
    assert write.value["last_id"] == "id-d" and write.value["hosts"] == ["h1", "h2"]
    assert write.value["_wm"] == {str(HOME): 10, str(AWAY): 7} and home_of(write.value) == HOME


def test_a_move_interrupted_and_run_again_ends_the_same() -> None:
    copies = {GROUP: {HOME: group(3, "b", "c", {HOME: 10}), AWAY: group(4, "a", "d", {AWAY: 7})}}
    writes = moves("error-groups", copies, PARTITIONS)
    done = applied(writes, copies)
    half = applied(writes[:1], copies)  # the home's value written, the copy elsewhere not deleted yet
    assert applied(moves("error-groups", half, PARTITIONS), half) == done
    assert moves("error-groups", done, PARTITIONS) == [], "nothing left to move"


def test_windows_add_up_and_profiles_keep_the_ring_of_the_copy_that_saw_most_errors() -> None:
    window = orjson.dumps([SERVICE, [60.0, 120.0]])
    (write, _delete) = moves("log-counts", {window: {HOME: {"INFO": 2, "_wm": {str(HOME): 5}},
                                                     AWAY: {"INFO": 1, "ERROR": 1, "_wm": {str(AWAY): 3}}}}, PARTITIONS)
    assert write.value is not None and {k: v for k, v in write.value.items() if not k.startswith("_")} == {
        "INFO": 3, "ERROR": 1}

    def profile(errors: int, wm: dict[int, int], first: int) -> Cell:
        return {"name": SERVICE, "first_seen": "a", "last_seen": "b", "hosts": [], "totals": {"ERROR": errors},
                "errors_seen": errors, "_ring_first": first, "_ring_next": first + 1,
                "_wm": {str(p): o for p, o in wm.items()}}

    chunk: dict[int, Any] = {HOME: {"service": SERVICE, "errors": [{"seq": 0}], "_wm": {str(HOME): 5}},
                             AWAY: {"service": SERVICE, "errors": [{"seq": 0}, {"seq": 1}], "_wm": {str(AWAY): 3}}}
    copies = {orjson.dumps(profile_key(SERVICE)): {HOME: profile(1, {HOME: 5}, 0), AWAY: profile(2, {AWAY: 3}, 0)},
              orjson.dumps(chunk_key(SERVICE, 0)): chunk,
              orjson.dumps(registry_key(AWAY)): {AWAY: {"_wm": {str(AWAY): 3}}}}
    after = applied(moves("service-state", copies, PARTITIONS), copies)
    assert after[orjson.dumps(profile_key(SERVICE))][HOME]["totals"] == {"ERROR": 3}
    assert after[orjson.dumps(chunk_key(SERVICE, 0))] == {HOME: {**chunk[AWAY], "_home": HOME}}, "the other ring's"
    assert after[orjson.dumps(registry_key(AWAY))] == {AWAY: {"_wm": {str(AWAY): 3}}}, "a partition's own cell"


def test_a_chunk_its_ring_no_longer_holds_is_deleted() -> None:
    profile = {"name": SERVICE, "errors_seen": 5, "_ring_first": 3, "_ring_next": 5, "_wm": {str(AWAY): 9}}
    dead = {"service": SERVICE, "errors": [], "_wm": {str(AWAY): 2}}
    copies = {orjson.dumps(profile_key(SERVICE)): {AWAY: profile}, orjson.dumps(chunk_key(SERVICE, 1)): {AWAY: dead}}
    writes = moves("service-state", copies, PARTITIONS)
    assert Write(AWAY, orjson.dumps(chunk_key(SERVICE, 1)), None) in writes
    assert not any(write.key == orjson.dumps(chunk_key(SERVICE, 1)) and write.value for write in writes)


def test_the_latest_triage_decision_holds() -> None:
    resolved = {"status": "resolved", "history": [{"at": 20.0, "to": "resolved"}], "_wm": {str(HOME): 3}}
    unresolved = {"status": "unresolved", "history": [{"at": 10.0, "to": "unresolved"}], "_wm": {str(AWAY): 8}}
    (write, _delete) = moves("group-states", {GROUP: {HOME: unresolved, AWAY: resolved}}, PARTITIONS)
    assert write.value is not None and write.value["status"] == "resolved"


def test_which_service_a_key_belongs_to() -> None:
    assert service_of("log-counts", [SERVICE, [0, 60]]) == SERVICE
    assert service_of("service-state", chunk_key("a\x1fb", 3)) == "a\x1fb"
    assert service_of("service-state", registry_key(2)) is None
    assert service_of("alert-state", "s\x1ferror_rate\x1fpay") == SERVICE
    assert service_of("error-groups", group_key("_overflow/2", "fp")) is None, "a bucket is its partition's"
    assert service_of("invalid-counts", "2") is None
