"""Each service's recent-errors ring: its newest ``RING_SIZE`` errors within the ring bytes, a batch at a time.

The errors one batch brings for a service are stored as one chunk (``service_state`` key
``e<US><service><US><n>``, n counting up per service), so a fetched batch with 500 errors
writes a few changelog records, not 500 (P2, ``bench/pipeline``). Each error is written once;
a chunk is split at ``CHUNK_BYTES``. The service profile holds the number of its oldest live
chunk and of the next one, and where the live chunks start and end in the service's running
total of error bytes (each chunk records its own end and size). The oldest chunk is deleted
while the chunks after it hold ``RING_SIZE`` errors or the live chunks hold more than
the ring bytes (``LOGMONITOR_RING_BYTES``; at least 1 MiB, so the newest error, at most 1 MiB,
always fits). So a ring holds ``RING_SIZE`` errors plus at most one chunk, never more than
the ring bytes, and readers keep the newest ``RING_SIZE`` by sequence number.

Chunks are written before the profile that counts them, to the same changelog partition, so
a profile that survived a crash implies its chunks did; a batch replayed after a crash starts
from that profile's numbers and writes the same chunk keys again.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import NamedTuple

from logmonitor.pipeline.tables.cells import Cell, mark_applied
from logmonitor.pipeline.tables.service_state import chunk_key

__all__ = ["CHUNK_BYTES", "RING_SIZE", "NewError", "append", "live_errors"]

RING_SIZE = 1000
CHUNK_BYTES = 256 * 1024  # well under Kafka's 1 MiB message limit; one larger error gets a chunk of its own


class NewError(NamedTuple):
    """An error to store: the ring entry, the size of its record in bytes, its source offset."""

    entry: Cell
    size: int
    offset: int


def append(service_state: MutableMapping[str, Cell], profile: Cell, errors: list[NewError], partition: int,
           max_bytes: int, home: int | None = None) -> None:
    """Store a batch's new errors of one service (from ``partition``); drop the chunks no longer needed.

    ``service_state`` is the table of the chunks; ``profile`` is the service's profile as it will
    be written (its ``errors_seen`` already counts ``errors``); its ring numbers are updated in
    place. Must run in the context of an event of the service's ``home`` partition (``partition``
    itself unless the errors were forwarded from there), before the profile is written.
    ``max_bytes`` bounds the record bytes kept.
    """
    service, first, number = profile["name"], profile.get("_ring_first", 0), profile.get("_ring_next", 0)
    start, end = profile.get("_ring_start", 0), profile.get("_ring_end", 0)
    for chunk in _chunks(_newest(errors, max_bytes)):
        size = sum(error.size for error in chunk)
        end += size
        service_state[chunk_key(service, number)] = mark_applied(
            {"service": service, "errors": [error.entry for error in chunk], "end": end, "bytes": size},
            partition, chunk[-1].offset, home)
        number += 1
    while first < number - 1:
        following: Cell | None = service_state.get(chunk_key(service, first + 1))
        if following:  # empty (the table's default) when deleted by a batch whose profile was lost, or by expiry
            if profile["errors_seen"] - following["errors"][0]["seq"] < RING_SIZE and end - start <= max_bytes:
                break
            start = following.get("end", end) - following.get("bytes", 0)  # chunks from before the byte bound: unknown
        key = chunk_key(service, first)
        if key in service_state:
            del service_state[key]
        first += 1
    profile["_ring_first"], profile["_ring_next"], profile["_ring_start"], profile["_ring_end"] = (
        first, number, start, end)


def live_errors(chunk: Cell, errors_seen: int) -> Iterator[Cell]:
    """The errors of ``chunk`` still among its service's newest ``RING_SIZE`` (of ``errors_seen``)."""
    oldest = errors_seen - RING_SIZE
    return (error for error in chunk["errors"] if error["seq"] >= oldest)


def _newest(errors: list[NewError], max_bytes: int) -> list[NewError]:
    """The newest of ``errors`` a ring holds: at most ``RING_SIZE``, within ``max_bytes`` (the newest always)."""
    kept, size = errors[-RING_SIZE:], 0
    for index in range(len(kept) - 1, -1, -1):
        size += kept[index].size
        if size > max_bytes and index < len(kept) - 1:
            return kept[index + 1:]
    return kept


def _chunks(errors: list[NewError]) -> Iterator[list[NewError]]:
    chunk: list[NewError] = []
    size = 0
    for error in errors:
        if chunk and size + error.size > CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(error)
        size += error.size
    if chunk:
        yield chunk
