"""Per-service profile and the recent-errors ring, in one table so their writes stay ordered.

Keys: ``p\\x1f<service>`` → profile (first/last seen, hosts, totals by level, errors seen);
``e\\x1f<service>\\x1f<n>`` → chunk n of the service's recent errors (``error_ring.py``);
``r\\x1f<partition>`` → the services a source partition admits (``service_registry.py``);
``v\\x1f<service>`` → the service's releases (``triage/releases.py``), once a record names one.
A chunk is written before the profile that counts it; both land in the same changelog
partition, in that order, so a profile that survived a crash implies its chunks did too.
"""

from __future__ import annotations

from typing import Any

import faust

from logmonitor.pipeline.tables.cell_table import cell_table

__all__ = [
    "MAX_HOSTS",
    "PROFILE",
    "RELEASES",
    "RING_CHUNK",
    "SERVICE_REGISTRY",
    "chunk_key",
    "define",
    "is_profile_key",
    "key_kind",
    "profile_key",
    "registry_key",
    "releases_key",
]

_SEP = "\x1f"
# The kinds of key, one letter each: the changelog holds them, so they never change.
PROFILE = "p"  # a service's profile
RING_CHUNK = "e"  # one chunk of a service's ring of recent errors
SERVICE_REGISTRY = "r"  # the services a source partition admits
RELEASES = "v"  # a service's releases
MAX_HOSTS = 64  # host names a profile keeps

def define(app: faust.App, partitions: int) -> Any:
    """The service-state table of ``app``: profiles, ring chunks and partition registries."""
    return cell_table(app, partitions, "service-state", "Service profiles and the ring of their last errors.")


def profile_key(service: str) -> str:
    """The key of a service's profile."""
    return f"{PROFILE}{_SEP}{service}"


def is_profile_key(key: str) -> bool:
    """Whether ``key`` is a profile's key (not a ring chunk's)."""
    return key.startswith(f"{PROFILE}{_SEP}")


def chunk_key(service: str, number: int) -> str:
    """The key of chunk ``number`` of a service's recent-errors ring."""
    return f"{RING_CHUNK}{_SEP}{service}{_SEP}{number}"


def registry_key(partition: int) -> str:
    """The key of the services source partition ``partition`` admits."""
    return f"{SERVICE_REGISTRY}{_SEP}{partition}"


def releases_key(service: str) -> str:
    """The key of a service's releases."""
    return f"{RELEASES}{_SEP}{service}"


def key_kind(key: str) -> str:
    """The kind of a key: :data:`PROFILE`, :data:`RING_CHUNK`, :data:`SERVICE_REGISTRY` or :data:`RELEASES`."""
    return key.split(_SEP, 1)[0]
