"""Records read off their service's home partition: forwarded to the repartition topic, counted once there.

A producer that does not key records by service (an unkeyed client, Vector, Fluent Bit, a Collector
with several pods) puts a service on several partitions of ``application-logs``; only the owner of
its home partition (``logmonitor/home_partition.py``) may count it (DESIGN section 4). The router of
another partition forwards such a record (an OTLP batch's records one by one) to the same partition
of the repartition topic, with where it was read in headers.

Forwards travel in **bundles**: the consecutive records of one source batch that go to the same home
with the same key and headers are one message of the repartition topic (:class:`Forwards`), their
values one after the other, with each one's offset, index and length in a header. A produce and a
consume per record cost more than the router's whole work on it (``bench/pipeline``, P9: 17 us a
forward sent one by one); a bundle splits back into the same records, in the same order.

The home counts it at its **source position**: the partition it was read from in ``application-logs``
and :func:`position` (its offset, and index in an OTLP batch). Every table cell keeps, per source
partition, the last position it applied (``tables/cells.py``), so a forward written twice (the
forwarding router crashed before its commit and forwarded again) is applied once: the repeat's
position is at or below the one the cell holds. A source partition's forwards reach a home in
order, so these marks grow with the source partitions, never with the records.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import orjson

__all__ = ["BUNDLE_BYTES", "BUNDLE_RECORDS", "INDEX_SPAN", "Forwards", "Source", "forwarded_records", "position"]

# Records one message can carry: an OTLP batch of at most 8 MiB (the topics' max.message.bytes) has
# fewer than 2**24 records. Positions stay below 2**63 up to offset 2**39 of a partition.
INDEX_SPAN = 1 << 24
MAX_OFFSET = 1 << 39
_TOPIC, _PARTITION = "lm-source-topic", "lm-source-partition"
_RECORDS = "lm-source-records"  # a bundle's records: [[offset, index or null, length], ...]
_SOURCE_HEADERS = frozenset((_TOPIC, _PARTITION, _RECORDS))
# A bundle ends at 1,000 records or 1 MiB of values (one larger record travels alone): well within the
# topics' max.message.bytes, and a home's fetch still brings several.
BUNDLE_RECORDS, BUNDLE_BYTES = 1000, 1024 * 1024
Header = tuple[str, bytes]


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


def _source_headers(headers: Sequence[Header]) -> dict[str, bytes]:
    found = {}
    for name, value in reversed(headers):  # the router puts them last, after the record's own
        if name not in _SOURCE_HEADERS:
            break
        found[name] = value
    return found


def forwarded_records(value: bytes | None, headers: Sequence[Header]) -> list[tuple[bytes, Source]] | None:
    """The records a bundle of the repartition topic carries (:class:`Forwards`), each with where it was read, in order.

    None if its headers do not say where they were read, or do not match its value (not one of our bundles).
    """
    found = _source_headers(headers)
    try:
        topic, partition = found[_TOPIC].decode(), int(found[_PARTITION])
        places = orjson.loads(found[_RECORDS])
        records, start, data = [], 0, value or b""
        for offset, index, length in places:
            if not (_below(offset, MAX_OFFSET) and _below(length, len(data) + 1)
                    and (index is None or _below(index, INDEX_SPAN))):
                return None
            records.append((data[start:start + length], Source(topic, partition, offset, index)))
            start += length
    except (KeyError, ValueError, TypeError, UnicodeDecodeError):
        return None
    return records if start == len(data) else None


def _below(value: object, bound: int) -> bool:
    return type(value) is int and 0 <= value < bound  # not a bool (an int too), nor a float


class Forwards:
    """One source batch's records off their home partition, as the bundles that carry them (module docstring).

    Args:
        topic, partition: where the batch was read.
    """

    def __init__(self, topic: str, partition: int) -> None:
        self._topic, self._partition = topic, partition
        self._open: dict[int, _Bundle] = {}  # by home: the bundle the next record to it may join
        self._done: list[_Bundle] = []  # in the order they were opened (each home's in order)

    def add(self, home: int, key: bytes | None, value: bytes | None, headers: Sequence[Header], offset: int,
            index: int | None) -> None:
        """Forward ``value`` to ``home``: read at ``offset`` (``index`` in an OTLP batch), with ``key``, ``headers``."""
        value = value or b""
        bundle = self._open.get(home)
        if (bundle is None or bundle.key != key or bundle.headers != headers or len(bundle.places) >= BUNDLE_RECORDS
                or bundle.size + len(value) > BUNDLE_BYTES):
            bundle = self._open[home] = _Bundle(home, key, headers)
            self._done.append(bundle)
        bundle.values.append(value)
        bundle.places.append((offset, index, len(value)))
        bundle.size += len(value)

    def __len__(self) -> int:
        return sum(len(bundle.places) for bundle in self._done)

    def messages(self) -> Iterator[tuple[bytes | None, bytes, int, list[Header]]]:
        """Each bundle as a message: key, value, partition (its home) and headers."""
        source = [(_TOPIC, self._topic.encode()), (_PARTITION, b"%d" % self._partition)]
        for bundle in self._done:
            headers = [*bundle.headers, *source, (_RECORDS, orjson.dumps(bundle.places))]
            yield bundle.key, b"".join(bundle.values), bundle.home, headers


class _Bundle:
    __slots__ = ("headers", "home", "key", "places", "size", "values")

    def __init__(self, home: int, key: bytes | None, headers: Sequence[Header]) -> None:
        self.home, self.key, self.headers = home, key, headers
        self.values: list[bytes] = []
        self.places: list[tuple[int, int | None, int]] = []
        self.size = 0
