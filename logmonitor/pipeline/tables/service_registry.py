"""The cap on distinct services: the services each source partition admits, and the overflow bucket.

A producer can make up service names without end, and each one costs a profile, a ring, groups,
windows and metric series. Each source partition admits at most :func:`partition_cap` services
(``LOGMONITOR_MAX_SERVICES`` spread over the partitions: services are partitioned by key, and
only a partition's owner decides for it). The records of every other service are counted, all
the same, under the partition's overflow bucket ``_overflow/<partition>``; the read layer shows
the buckets of all partitions as one service, :data:`OVERFLOW`. The names ``_overflow`` and
``_overflow/...`` are reserved: records that claim them are counted in the bucket.

A partition's registry is one ``service_state`` cell, ``{"services": {name: offset admitted}}``
plus the usual watermark, written at every batch (first of the batch's ``service_state``
writes). So whether a record is admitted is a function of the cell and the record's offset,
the same when a batch is replayed after a crash: a record the cell has seen (offset at or
below its watermark) was admitted exactly when its service is listed from an offset at or
below its own; a newer record is admitted when its service is listed, or is new and there is
room. Expiry (``tables/expiry.py``) removes a service from the registry with its state.
"""

from __future__ import annotations

import logging
from typing import Any

from logmonitor.metrics import OVERFLOWED_RECORDS
from logmonitor.pipeline.tables.announcement import Announcement
from logmonitor.pipeline.tables.cells import Cell

__all__ = [
    "OVERFLOW", "admits", "announce_overflow", "bucket_name", "first_come", "is_overflow", "partition_cap",
    "public_name",
]

OVERFLOW = "_overflow"
_BUCKET_PREFIX = f"{OVERFLOW}/"

_cap_reached = Announcement(logging.getLogger(__name__))


def partition_cap(max_services: int, partitions: int) -> int:
    """How many services one source partition admits: ``max_services`` spread evenly, rounded up."""
    return -(-max_services // partitions)


def bucket_name(partition: int) -> str:
    """The name the tables count source partition ``partition``'s overflowed records under."""
    return f"{_BUCKET_PREFIX}{partition}"


def is_overflow(service: str) -> bool:
    """Whether ``service`` is a reserved name: the overflow bucket or one partition's share of it."""
    return service == OVERFLOW or service.startswith(_BUCKET_PREFIX)


def public_name(service: str) -> str:
    """The name answers show: every partition's bucket is :data:`OVERFLOW`."""
    return OVERFLOW if service.startswith(_BUCKET_PREFIX) else service


def admits(registry: Cell, applied: int, service: str, offset: int, cap: int, forwarded_from: int | None = None
           ) -> bool:
    """Whether the record of ``service`` at ``offset`` counts under its own name; lists it when it is admitted now.

    Args:
        registry: the partition's registry cell, the caller's own copy (changed in place).
        applied: the last offset (or position) of the record's partition the stored registry has seen (-1: none).
        service: the record's service.
        offset: the record's source offset, or its position if it was forwarded.
        cap: the services the partition admits (:func:`partition_cap`).
        forwarded_from: the source partition of a record forwarded to this one (``pipeline/repartition.py``);
            None for the partition's own records.
    """
    return first_come(registry.setdefault("services", {}), applied, service, offset, cap, forwarded_from)


def first_come(listed: dict[str, Any], applied: int, name: str, offset: int, cap: int,
               partition: int | None = None) -> bool:
    """The admission rule, for services and error groups alike: whether ``name`` at ``offset`` is admitted.

    ``listed`` maps the admitted names to the offset each was admitted at (changed in place: a
    name admitted now is added); ``applied`` is the last offset the stored listing has decided
    for. A listing fed by several source partitions (a service's error groups: producers that do
    not key by service spread it) gives ``partition`` and keeps ``[partition, offset]``: offsets
    compare only within their partition, and a name admitted from another one counts from then
    on (a partition's registry lists its own records' services by offset, forwarded records' by
    place). Names starting with :data:`OVERFLOW` are reserved, never admitted.
    """
    admitted = listed.get(name)
    if admitted is not None:  # a plain offset: admitted from a listing's own partition (partition None)
        at_partition, at_offset = (None, admitted) if isinstance(admitted, int) else admitted
        return bool(at_partition != partition or offset >= at_offset)
    if offset <= applied or len(listed) >= cap or is_overflow(name):
        return False
    listed[name] = offset if partition is None else [partition, offset]
    return True


def announce_overflow(service: str, max_services: int, cap: int) -> None:
    """Count one overflowed record; the first in this process is announced in one WARNING line."""
    OVERFLOWED_RECORDS.inc()
    if not is_overflow(service):
        _cap_reached.once(
            "service cap reached: records of services beyond LOGMONITOR_MAX_SERVICES=%d (%d per source "
            "partition) are counted under the service %r (first: %r); raise LOGMONITOR_MAX_SERVICES if "
            "these are real services, else fix the producer that makes up service names",
            max_services, cap, OVERFLOW, service[:100])
