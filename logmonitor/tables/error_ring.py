"""Each service's recent-errors ring: its newest ``RING_SIZE`` errors, stored a batch at a time.

The errors one batch brings for a service are stored as one chunk (``service_state`` key
``e<US><service><US><n>``, n counting up per service), so a fetched batch with 500 errors
writes a few changelog records, not 500 (P2, ``bench/pipeline``). Each error is written once;
a chunk is split at ``CHUNK_BYTES``. The service profile holds the number of its oldest live
chunk and of the next one; once the chunks after the oldest hold ``RING_SIZE`` errors, the
oldest is deleted, so a ring holds ``RING_SIZE`` errors plus at most one chunk, and readers
keep the newest ``RING_SIZE`` by sequence number.

Chunks are written before the profile that counts them, to the same changelog partition, so
a profile that survived a crash implies its chunks did; a batch replayed after a crash starts
from that profile's numbers and writes the same chunk keys again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from logmonitor.tables.cells import Cell, mark_applied
from logmonitor.tables.service_state import chunk_key, service_state

__all__ = ["CHUNK_BYTES", "RING_SIZE", "NewError", "append", "live_errors"]

RING_SIZE = 1000
CHUNK_BYTES = 256 * 1024  # well under Kafka's 1 MiB message limit; one larger error gets a chunk of its own


class NewError(NamedTuple):
    """An error to store: the ring entry, the size of its record in bytes, its source offset."""

    entry: Cell
    size: int
    offset: int


def append(profile: Cell, errors: list[NewError], partition: int) -> None:
    """Store a batch's new errors of one service (from ``partition``); drop the chunks no longer needed.

    ``profile`` is the service's profile as it will be written (its ``errors_seen`` already
    counts ``errors``); its ring numbers are updated in place. Must run in the context of an
    event of ``partition``, before the profile is written.
    """
    service, first, number = profile["name"], profile.get("_ring_first", 0), profile.get("_ring_next", 0)
    for chunk in _chunks(errors[-RING_SIZE:]):
        service_state[chunk_key(service, number)] = mark_applied(
            {"service": service, "errors": [error.entry for error in chunk]}, partition, chunk[-1].offset)
        number += 1
    while first < number - 1:
        following = _first_seq(service, first + 1)
        if following is None or profile["errors_seen"] - following < RING_SIZE:
            break
        key = chunk_key(service, first)
        if key in service_state:
            del service_state[key]
        first += 1
    profile["_ring_first"], profile["_ring_next"] = first, number


def live_errors(chunk: Cell, errors_seen: int) -> Iterator[Cell]:
    """The errors of ``chunk`` still among its service's newest ``RING_SIZE`` (of ``errors_seen``)."""
    oldest = errors_seen - RING_SIZE
    return (error for error in chunk["errors"] if error["seq"] >= oldest)


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


def _first_seq(service: str, number: int) -> int | None:
    """The sequence number of the oldest error in chunk ``number`` (chunks are never empty); None if it is gone."""
    chunk: Cell | None = service_state.get(chunk_key(service, number))
    return int(chunk["errors"][0]["seq"]) if chunk else None
