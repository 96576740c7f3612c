"""A service's home partition is where Kafka's default partitioner (murmur2) puts its key."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner

from logmonitor.handler.producer_config import producer_config
from logmonitor.home_partition import HomePartitions, home_partition

# The Java client's own murmur2 values (apache/kafka, clients/src/test/java/org/apache/kafka/common/
# utils/UtilsTest.java, testMurmur2); its default partitioner takes toPositive(hash) % partitions.
JAVA_MURMUR2 = {
    "21": -973932308,
    "foobar": -790332482,
    "a-little-bit-long-string": -985981536,
    "a-little-bit-longer-string": -1486304829,
    "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    "abc": 479470107,
}


@pytest.mark.parametrize("key", sorted(JAVA_MURMUR2))
@pytest.mark.parametrize("partitions", [1, 3, 8, 12, 100])
def test_home_partition_is_the_java_clients_partition_of_the_key(key: str, partitions: int) -> None:
    assert home_partition(key, partitions) == (JAVA_MURMUR2[key] & 0x7FFFFFFF) % partitions


def test_the_demo_services_have_these_home_partitions_of_eight() -> None:
    homes = {service: home_partition(service, 8) for service in ("usermanagement", "booking", "notification",
                                                                   "payment")}
    assert homes == {"usermanagement": 6, "booking": 4, "notification": 6, "payment": 5}


@pytest.mark.parametrize("service", ["usermanagement", "booking", "checkout", "ünïcode-dienst", "x" * 300])
def test_aiokafka_default_partitioner_picks_the_home_partition(service: str) -> None:
    key, partitions = service.encode(), list(range(8))
    assert DefaultPartitioner()(key, partitions, partitions) == home_partition(service, 8)


def test_the_cache_answers_as_the_function_and_stops_growing_at_its_bound() -> None:
    homes = HomePartitions(12)
    homes.MAX_CACHED = 3  # type: ignore[misc]
    names = [f"service-{n}" for n in range(10)]
    assert [homes[name] for name in names * 2] == [home_partition(name, 12) for name in names * 2]
    assert len(homes) == 3


def test_the_handler_uses_librdkafkas_java_compatible_partitioner() -> None:
    assert producer_config("127.0.0.1:9092", {})["partitioner"] == "murmur2_random"
