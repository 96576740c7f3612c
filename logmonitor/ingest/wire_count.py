"""Count the records a protobuf body holds from its wire format, before anything is materialised.

A body may declare more than it carries: an empty log record is two bytes on the wire (a tag and
a zero length), and a protobuf parser builds an object for each, so 18 MB of them (17.5 KB
gzipped) made the server allocate gigabytes before any bound was checked. Walking the tags of the
few message levels above the records costs work proportional to what is counted, and stops one
record past the bound: refusing a body costs its size, never what it declares.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MalformedWire", "count_records"]

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


class MalformedWire(ValueError):
    """The bytes are not protobuf wire format (a protobuf parser would refuse them too)."""


def _varint(data: bytes, position: int, end: int) -> tuple[int, int]:
    """The varint at ``position`` and the position after it."""
    value, shift = 0, 0
    while position < end:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
        if shift > 63:
            break
    raise MalformedWire("a varint runs past its message or 10 bytes")


def count_records(data: bytes, path: Sequence[int], limit: int) -> int:
    """How many length-delimited fields ``path`` reaches (field numbers, outermost first), counting to ``limit + 1``.

    Every message on the way is walked, every other field skipped by its length; the count stops
    at ``limit + 1`` (so the caller knows the bound is passed, having done work bounded by it).

    Raises:
        MalformedWire: a tag, length or wire type a protobuf parser would refuse.
    """
    count = 0
    # Messages still to walk: (start, end, depth in path). The records' own content is never entered.
    pending = [(0, len(data), 0)]
    last = len(path) - 1
    while pending:
        position, end, depth = pending.pop()
        wanted = path[depth]
        while position < end:
            tag, position = _varint(data, position, end)
            kind, number = tag & 7, tag >> 3
            if kind == _LEN:
                length, position = _varint(data, position, end)
                if position + length > end:
                    raise MalformedWire("a field's length runs past its message")
                if number == wanted:
                    if depth == last:
                        count += 1
                        if count > limit:
                            return count
                    else:
                        pending.append((position, position + length, depth + 1))
                position += length
            elif kind == _VARINT:
                _value, position = _varint(data, position, end)
            elif kind == _I64:
                position += 8
            elif kind == _I32:
                position += 4
            else:  # groups (3, 4) are not in these schemas; 6 and 7 are no wire type
                raise MalformedWire(f"wire type {kind} where none of these messages has one")
            if number == 0:
                raise MalformedWire("field number 0")
        if position > end:
            raise MalformedWire("a fixed-size field runs past its message")
    return count
