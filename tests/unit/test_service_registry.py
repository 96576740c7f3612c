"""The cap on distinct services: admission decided from the registry cell alone, the same on a replay."""

from typing import Any

from logmonitor.pipeline.tables.service_registry import (
    OVERFLOW,
    admits,
    bucket_name,
    is_overflow,
    partition_cap,
    public_name,
)


def decide(registry: dict[str, Any], applied: int, records: list[tuple[str, int]], cap: int) -> list[bool]:
    return [admits(registry, applied, service, offset, cap) for service, offset in records]


def test_the_cap_is_spread_over_partitions_rounded_up() -> None:
    assert partition_cap(1000, 8) == 125
    assert partition_cap(20, 3) == 7
    assert partition_cap(1, 8) == 1


def test_new_services_are_admitted_until_the_partition_is_full() -> None:
    registry: dict[str, Any] = {}
    records = [("a", 0), ("b", 1), ("a", 2), ("c", 3), ("d", 4), ("c", 5)]
    assert decide(registry, -1, records, cap=2) == [True, True, True, False, False, False]
    assert registry["services"] == {"a": 0, "b": 1}


def test_a_replayed_batch_decides_as_the_first_time() -> None:
    records = [("a", 10), ("x", 11), ("b", 12), ("y", 13), ("a", 14)]
    registry: dict[str, Any] = {"services": {"old": 3}}
    first = decide(registry, 9, records, cap=3)
    stored = {"services": dict(registry["services"])}  # the registry written with watermark 14
    assert decide(stored, 14, records, cap=3) == first == [True, True, False, False, True]
    assert decide({"services": {"old": 3}}, 9, records, cap=3) == first, "the registry write was lost"


def test_a_slot_freed_by_expiry_is_not_taken_by_a_replayed_record() -> None:
    registry: dict[str, Any] = {"services": {"a": 0}}  # "b" expired after offset 7 was decided
    assert admits(registry, 7, "x", 5, cap=2) is False, "x overflowed at offset 5 when the partition was full"
    assert admits(registry, 7, "x", 8, cap=2) is True


def test_a_service_admitted_later_does_not_claim_its_earlier_overflowed_records() -> None:
    registry: dict[str, Any] = {"services": {"a": 0, "x": 20}}
    assert admits(registry, 25, "x", 12, cap=2) is False
    assert admits(registry, 25, "x", 21, cap=2) is True


def test_reserved_names_always_go_to_the_bucket() -> None:
    registry: dict[str, Any] = {}
    assert not admits(registry, -1, OVERFLOW, 0, cap=5)
    assert not admits(registry, -1, bucket_name(2), 1, cap=5)
    assert registry["services"] == {}
    assert is_overflow("_overflow/7") and not is_overflow("_overflowing")


def test_every_partitions_bucket_answers_as_one_service() -> None:
    assert public_name(bucket_name(0)) == public_name(bucket_name(3)) == OVERFLOW
    assert public_name("payments") == "payments"
