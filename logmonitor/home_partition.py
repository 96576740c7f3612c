"""A service's home partition: where Kafka's default partitioner puts its key (DESIGN sections 2 and 4).

The one partition of ``application-logs`` whose owner counts, groups and triages a service. It is
the partition the Java client's default partitioner, aiokafka's ``DefaultPartitioner`` and
librdkafka's ``murmur2_random`` pick for the key ``service`` (UTF-8): the positive murmur2 hash of
the key, modulo the topic's partition count. Our producers write a service there (the handler
sets ``murmur2_random``; the ingest server and ``bench/`` produce with aiokafka, keyed by service);
the router forwards records other producers put elsewhere (``pipeline/router.py``).
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2

__all__ = ["HomePartitions", "home_partition"]


def home_partition(service: str, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for the key ``service`` among ``partitions``."""
    return int(murmur2(service.encode()) & 0x7FFFFFFF) % partitions


class HomePartitions(dict[str, int]):
    """Each service's home partition among a topic's ``partitions`` (``homes[service]``), computed once a service.

    A dict look-up for a service seen before: the router asks for every record it reads. Bounded by
    the services the router admits (the service cap), plus what it reads before deciding.
    """

    MAX_CACHED = 100_000  # beyond: computed each time (~2 us), never grown further

    def __init__(self, partitions: int) -> None:
        super().__init__()
        self.partitions = partitions

    def __missing__(self, service: str) -> int:
        home = home_partition(service, self.partitions)
        if len(self) < self.MAX_CACHED:
            self[service] = home
        return home
