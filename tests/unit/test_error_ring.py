"""The recent-errors ring: chunks per batch, the newest RING_SIZE errors kept, replays write the same keys.

The ring's table is replaced by a dict here (error_ring only sets, gets, tests and deletes
keys); the real table, its changelog and crashes are covered by tests/integration.
"""

from collections import UserDict
from typing import Any

import pytest

from logmonitor.pipeline.tables.error_ring import CHUNK_BYTES, RING_SIZE, NewError, append, live_errors
from logmonitor.pipeline.tables.service_state import chunk_key

RING_BYTES = 4 * 1024 * 1024  # LOGMONITOR_RING_BYTES's default


class DefaultingTable(UserDict[str, Any]):
    """A missing key reads as ``{}``, as in the app's tables (``default=dict``): ``get`` gives ``{}``, not None."""

    def __missing__(self, key: str) -> dict[str, Any]:
        return {}


@pytest.fixture(params=[dict, DefaultingTable], ids=["dict", "defaulting"])
def table(request: pytest.FixtureRequest) -> Any:
    return request.param()


def new_profile() -> dict[str, Any]:
    return {"name": "pay", "errors_seen": 0}


def store_batch(table: dict[str, Any], profile: dict[str, Any], count: int, size: int = 500) -> None:
    """What aggregation.Changes does for a batch bringing ``count`` errors of the service."""
    errors = []
    for _ in range(count):
        seq = profile["errors_seen"]
        errors.append(NewError({"id": f"e{seq}", "seq": seq}, size, offset=seq))
        profile["errors_seen"] += 1
    append(table, profile, errors, partition=0, max_bytes=RING_BYTES)


def ring(table: dict[str, Any], profile: dict[str, Any]) -> list[int]:
    return sorted(error["seq"] for chunk in table.values() for error in live_errors(chunk, profile["errors_seen"]))


def test_one_error_per_batch_keeps_exactly_the_newest(table: dict[str, Any]) -> None:
    profile = new_profile()
    for _ in range(2_500):
        store_batch(table, profile, 1)
    assert ring(table, profile) == list(range(1_500, 2_500))
    assert len(table) <= RING_SIZE + 1


def test_a_batch_is_one_chunk_until_chunk_bytes(table: dict[str, Any]) -> None:
    profile = new_profile()
    store_batch(table, profile, 100, size=1_000)
    assert len(table) == 1
    per_chunk = CHUNK_BYTES // 1_000
    store_batch(table, profile, 2 * per_chunk + 1, size=1_000)
    assert [len(chunk["errors"]) for chunk in table.values()] == [100, per_chunk, per_chunk, 1]
    assert ring(table, profile) == list(range(profile["errors_seen"]))


def test_a_huge_batch_stores_only_the_newest_ring_size(table: dict[str, Any]) -> None:
    profile = new_profile()
    store_batch(table, profile, 5_000, size=10)
    assert sum(len(chunk["errors"]) for chunk in table.values()) == RING_SIZE
    assert ring(table, profile) == list(range(4_000, 5_000))


def test_mixed_batches_hold_the_newest_and_at_most_one_chunk_more(table: dict[str, Any]) -> None:
    profile = new_profile()
    for count in [3, 700, 1, 1, 250, 1_200, 5, 999, 2, 640, 1] * 5:
        store_batch(table, profile, count)
        newest = list(range(max(0, profile["errors_seen"] - RING_SIZE), profile["errors_seen"]))
        assert ring(table, profile) == newest
        stored = [error["seq"] for chunk in table.values() for error in chunk["errors"]]
        oldest_chunk = table[chunk_key("pay", profile["_ring_first"])]["errors"]
        assert len(stored) == len(set(stored)) <= RING_SIZE + len(oldest_chunk)


def test_a_replay_after_a_crash_rewrites_the_same_chunks(table: dict[str, Any]) -> None:
    profile = new_profile()
    for _ in range(30):
        store_batch(table, profile, 40)
    survived = dict(profile)  # the last profile the changelog kept
    store_batch(table, profile, 90)  # its chunk and deletions survived, its profile did not
    store_batch(table, survived, 30)  # the same records, fetched in other batches
    store_batch(table, survived, 60)
    assert survived["errors_seen"] == profile["errors_seen"]
    assert ring(table, survived) == list(range(survived["errors_seen"] - RING_SIZE, survived["errors_seen"]))
    ids = [error["id"] for chunk in table.values() for error in chunk["errors"]]
    assert len(ids) == len(set(ids)), "an error is stored twice"


def test_a_ring_holds_at_most_ring_bytes_dropping_the_oldest_chunks(table: dict[str, Any]) -> None:
    profile = new_profile()
    for _ in range(20):
        store_batch(table, profile, 3, size=100_000)
        held = sum(chunk["bytes"] for chunk in table.values())
        assert held <= RING_BYTES
    assert ring(table, profile)[-1] == profile["errors_seen"] - 1, "the newest is kept"


def test_one_batch_larger_than_the_bound_stores_only_its_newest(table: dict[str, Any]) -> None:
    profile = new_profile()
    errors = [NewError({"id": f"e{seq}", "seq": seq}, 300_000, offset=seq) for seq in range(10)]
    profile["errors_seen"] = 10
    append(table, profile, errors, partition=0, max_bytes=1_000_000)
    assert ring(table, profile) == [7, 8, 9]


def test_a_lone_error_larger_than_the_bound_is_still_kept(table: dict[str, Any]) -> None:
    profile = new_profile()
    store_batch(table, profile, 2, size=10)
    profile["errors_seen"] += 1
    append(table, profile, [NewError({"id": "huge", "seq": 2}, 2_000_000, offset=2)], partition=0, max_bytes=1_000_000)
    assert ring(table, profile) == [2]


def test_a_chunk_deleted_meanwhile_is_skipped_and_the_ring_moves_on(table: Any) -> None:
    """A chunk after the oldest may be gone (expiry, or a batch whose profile was lost): it reads as missing."""
    profile = new_profile()
    for _ in range(3):
        store_batch(table, profile, RING_SIZE // 2)
    del table[chunk_key("pay", 1)]
    store_batch(table, profile, RING_SIZE)
    assert chunk_key("pay", 0) not in table and chunk_key("pay", 1) not in table
    assert ring(table, profile) == list(range(profile["errors_seen"] - RING_SIZE, profile["errors_seen"]))
