"""Find the records of a protobuf body on its wire format, before anything is materialised.

A body may declare more than it carries: an empty log record is two bytes on the wire (a tag and
a zero length), and a protobuf parser builds an object for each, so 18 MB of them (17.5 KB
gzipped) made the server allocate gigabytes before any bound was checked. Walking the tags of the
few message levels above the records costs work proportional to what is found, and the decoders
stop one record past the bound and parse each record alone: refusing a body costs its size, never
what it declares.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["MalformedWire", "length_delimited"]

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


def length_delimited(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, int]]:
    """The length-delimited fields of the message in ``data[start:end]``: each one's number and value's bounds.

    Fields of other wire types are skipped; nothing is copied.

    Raises:
        MalformedWire: a tag, length or wire type a protobuf parser would refuse.
    """
    position, end = start, len(data) if end is None else end
    while position < end:
        tag, position = _varint(data, position, end)
        kind, number = tag & 7, tag >> 3
        if number == 0:
            raise MalformedWire("field number 0")
        if kind == _LEN:
            length, position = _varint(data, position, end)
            if position + length > end:
                raise MalformedWire("a field's length runs past its message")
            yield number, position, position + length
            position += length
        elif kind == _VARINT:
            _value, position = _varint(data, position, end)
        elif kind in (_I64, _I32):
            position += 8 if kind == _I64 else 4
            if position > end:
                raise MalformedWire("a fixed-size field runs past its message")
        else:  # groups (3, 4) are not in these schemas; 6 and 7 are no wire type
            raise MalformedWire(f"wire type {kind} where none of these messages has one")
