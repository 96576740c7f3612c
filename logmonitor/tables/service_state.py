"""Per-service profile and the recent-errors ring, in one table so their writes stay ordered.

Keys: ``p\\x1f<service>`` → profile (first/last seen, hosts, totals by level, errors seen);
``e\\x1f<service>\\x1f<n>`` → chunk n of the service's recent errors (``error_ring.py``);
``r\\x1f<partition>`` → the services a source partition admits (``service_registry.py``).
A chunk is written before the profile that counts it; both land in the same changelog
partition, in that order, so a profile that survived a crash implies its chunks did too.
"""

from __future__ import annotations

from logmonitor.tables.define import cell_table

__all__ = ["MAX_HOSTS", "chunk_key", "is_profile_key", "profile_key", "registry_key", "service_state", "split_key"]

_SEP = "\x1f"
MAX_HOSTS = 64  # host names a profile keeps

service_state = cell_table("service-state", "Service profiles and the ring of their last errors.")


def profile_key(service: str) -> str:
    """The key of a service's profile."""
    return f"p{_SEP}{service}"


def is_profile_key(key: str) -> bool:
    """Whether ``key`` is a profile's key (not a ring chunk's)."""
    return key.startswith(f"p{_SEP}")


def chunk_key(service: str, number: int) -> str:
    """The key of chunk ``number`` of a service's recent-errors ring."""
    return f"e{_SEP}{service}{_SEP}{number}"


def registry_key(partition: int) -> str:
    """The key of the services source partition ``partition`` admits."""
    return f"r{_SEP}{partition}"


def split_key(key: str) -> tuple[str, str]:
    """``(kind, service)`` of a key; kind is ``p`` (profile), ``e`` (ring chunk) or ``r`` (registry: a partition)."""
    kind, service = key.split(_SEP)[:2]
    return kind, service
