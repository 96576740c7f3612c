"""Records read off their service's home partition: forwarded to the repartition topic, counted once there.

A producer that does not key records by service (an unkeyed client, Vector, Fluent Bit, a Collector
with several pods) puts a service on several partitions of ``application-logs``; only the owner of
its home partition (``logmonitor/home_partition.py``) may count it (DESIGN section 4). The router of
another partition forwards such a record, as the one record it is (an OTLP batch's records one by
one), to the same partition of the repartition topic, with where it was read in headers.

The home counts it at its **source position**: the partition it was read from in ``application-logs``
and :func:`position` (its offset, and index in an OTLP batch). Every table cell keeps, per source
partition, the last position it applied (``tables/cells.py``), so a forward written twice (the
forwarding router crashed before its commit and forwarded again) is applied once: the repeat's
position is at or below the one the cell holds. A source partition's forwards reach a home in
order, so these marks grow with the source partitions, never with the records.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["INDEX_SPAN", "Source", "forward_headers", "position", "source_of"]

# Records one message can carry: an OTLP batch of at most 8 MiB (the topics' max.message.bytes) has
# fewer than 2**24 records. Positions stay below 2**63 up to offset 2**39 of a partition.
INDEX_SPAN = 1 << 24
_TOPIC, _PARTITION, _OFFSET, _INDEX = "lm-source-topic", "lm-source-partition", "lm-source-offset", "lm-source-index"
_SOURCE_HEADERS = frozenset((_TOPIC, _PARTITION, _OFFSET, _INDEX))


class Source(NamedTuple):
    """Where a forwarded record was read: its topic, partition and offset, its index in an OTLP batch (or None)."""

    topic: str
    partition: int
    offset: int
    index_in_batch: int | None

    @property
    def position(self) -> int:
        """The record's position in its source partition (:func:`position`)."""
        return position(self.offset, self.index_in_batch)


def position(offset: int, index: int | None) -> int:
    """The order of a forwarded record within its source partition: by offset, then by index in its OTLP batch."""
    return offset * INDEX_SPAN + (index or 0)


def forward_headers(topic: str, partition: int, offset: int, index: int | None) -> list[tuple[str, bytes]]:
    """The headers that say where a forwarded record was read."""
    headers = [(_TOPIC, topic.encode()), (_PARTITION, b"%d" % partition), (_OFFSET, b"%d" % offset)]
    if index is not None:
        headers.append((_INDEX, b"%d" % index))
    return headers


def source_of(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> Source | None:
    """Where the forwarded record with ``headers`` was read; None if they do not say (not one of our forwards)."""
    found = {}
    for name, value in reversed(headers):  # the router puts them last, after the record's own
        if name not in _SOURCE_HEADERS:
            break
        found[name] = value
    try:
        index = found.get(_INDEX)
        return Source(found[_TOPIC].decode(), int(found[_PARTITION]), int(found[_OFFSET]),
                      None if index is None else int(index))
    except (KeyError, ValueError, UnicodeDecodeError):
        return None
