"""Loki push (``POST /loki/api/v1/push``), JSON and snappy-compressed protobuf, to records of DESIGN section 2.

======================================== ===========================================================
Loki                                     record
======================================== ===========================================================
the first present of ``labels.service``  ``service`` (none: ``unknown_service``, as Loki names it)
the first present of ``labels.release``  ``release``, ``environment`` (labels or structured metadata;
and ``labels.environment``               cut to 256 characters; blank: none)
label ``level``, ``detected_level`` or   ``level``; else the line's ``level``/``severity``/``lvl``
``severity`` (python-logging-loki's)     when it is a JSON object or logfmt; else ``INFO``
the line                                 ``message``
the entry's time in nanoseconds          ``timestamp``
label ``host``/``hostname``, ``logger``  ``host``, ``logger``
structured metadata ``trace_id``,        ``trace_id``, ``span_id``
``span_id``
other labels, structured metadata        ``extra`` (an entry's metadata wins over its stream's labels)
======================================== ===========================================================

Bounds: the decompressed protobuf's declared length is checked before decompressing
(:class:`BodyTooLarge`); labels and metadata as ``loki_labels``; records and bytes as
``decoded``. Decoders do not redact: the router redacts these foreign records (module ``decoded``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import cramjam
import orjson
from google.protobuf.message import DecodeError

from logmonitor.ingest.decoded import (
    BodyTooLarge,
    Decoded,
    Hold,
    Rejected,
    UndecodableBody,
    collect,
    count_bounded,
    hold_nothing,
    json_raw,
    parse_json,
)
from logmonitor.ingest.fields import Unmappable, level_named, pop_name, pop_text, timestamp_of_nanos
from logmonitor.ingest.loki_labels import MAX_LABELS, MAX_LABELS_TEXT, LabelsError, parse_labels
from logmonitor.ingest.loki_push import EntryAdapter
from logmonitor.ingest.settings import LokiLabels
from logmonitor.ingest.wire_count import MalformedWire, length_delimited
from logmonitor.pipeline.native_shape import OPTIONAL_TEXT_LIMIT
from logmonitor.pipeline.records import MAX_RECORD_BYTES

__all__ = ["BodyTooLarge", "declared_length", "decode_loki_json", "decode_loki_proto"]

LEVEL_LABELS = ("level", "detected_level", "severity")
LINE_LEVEL_KEYS = ("level", "severity", "lvl")
_LOGFMT_SCAN = 4096  # logfmt lines put their level near the start; the scan stops here
_SHOWN_LABELS = 1024  # of a stream's labels, kept with each of its rejected entries
_STREAMS, _LABELS, _ENTRIES = 1, 1, 2  # field numbers: PushRequest.streams; StreamAdapter.labels, .entries


def decode_loki_json(body: bytes, labels: LokiLabels, hold: Hold = hold_nothing) -> Decoded:
    """The records of a Loki JSON push (``{"streams": [{"stream": {...}, "values": [[ns, line, {...}?]]}]}``)."""
    request = parse_json(body, hold)
    streams = request.get("streams") if isinstance(request, dict) else None
    if not isinstance(streams, list):
        raise UndecodableBody("bad_loki: a push is a JSON object with a streams array")
    return collect(_json_candidates(streams, labels), hold=hold)


def decode_loki_proto(body: bytes, labels: LokiLabels, max_bytes: int, hold: Hold = hold_nothing) -> Decoded:
    """The records of a snappy-compressed protobuf ``PushRequest``; :class:`BodyTooLarge` past ``max_bytes``.

    The length the snappy block declares is checked, and held against the in-flight bound, before
    anything is decompressed, so a small body cannot make the server allocate more than
    ``max_bytes``; its entries are found and counted on the wire and each is parsed alone, when it
    is mapped (as OTLP records: module ``otlp``), so what an entry declares costs its own bytes.
    """
    length = declared_length(body)
    if length > max_bytes:
        raise BodyTooLarge(f"too_large: the body decompresses to {length} bytes, the limit is {max_bytes}")
    hold(length)
    try:
        raw = bytes(cramjam.snappy.decompress_raw(body, output_len=length))
        streams = _proto_streams(raw)
    except cramjam.DecompressionError as error:
        raise UndecodableBody(f"bad_snappy: {error}") from None
    except MalformedWire as error:
        raise UndecodableBody(f"bad_protobuf: not a Loki PushRequest ({error})") from None
    return collect(_proto_candidates(streams, labels), hold=hold)


def declared_length(block: bytes) -> int:
    """The uncompressed length a raw snappy block declares (its leading varint, at most 32 bits)."""
    length = 0
    for index, byte in enumerate(block[:5]):
        length |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            return length
    raise UndecodableBody("bad_snappy: the body does not start with a snappy block's length")


def _json_candidates(streams: list[Any], names: LokiLabels) -> Iterator[dict[str, Any] | Rejected]:
    now, index = time.time(), 0
    for stream in streams:
        labels_doc = stream.get("stream") if isinstance(stream, dict) else None
        values = stream.get("values") if isinstance(stream, dict) else None
        if not isinstance(values, list):
            raise UndecodableBody("bad_loki: each stream is an object with a values array")
        try:
            labels: dict[str, str] | Unmappable = _json_pairs(labels_doc, "stream labels")
        except Unmappable as unmappable:
            labels = unmappable  # each of the stream's entries is rejected with this reason
        shown = json_raw(labels_doc)[:_SHOWN_LABELS].decode(errors="replace")
        for value in values:
            count_bounded(index)
            index += 1
            try:
                if isinstance(labels, Unmappable):
                    raise labels
                nanos, line, metadata = _json_entry(value)
                yield _record(labels, nanos, line, metadata, names, now)
            except Unmappable as unmappable:
                yield Rejected(unmappable.reason, json_raw({"stream": shown, "entry": value}))


def _json_entry(value: Any) -> tuple[int, str, dict[str, str]]:
    if not isinstance(value, list) or not 2 <= len(value) <= 3:
        raise Unmappable("bad_entry: an entry is [nanoseconds, line] or [nanoseconds, line, {metadata}]")
    nanos, line = value[0], value[1]
    if isinstance(nanos, str) and 0 < len(nanos) <= 20 and nanos.isdigit() and nanos.isascii():
        nanos = int(nanos)
    if not isinstance(nanos, int) or isinstance(nanos, bool):
        raise Unmappable("bad_timestamp: an entry's time is nanoseconds since the epoch, as decimal text")
    if not isinstance(line, str):
        raise Unmappable("bad_message: an entry's line must be a string")
    return nanos, line, _json_pairs(value[2] if len(value) == 3 else None, "structured metadata")


def _json_pairs(pairs: Any, what: str) -> dict[str, str]:
    if pairs is None:
        return {}
    if not isinstance(pairs, dict) or not all(isinstance(value, str) for value in pairs.values()):
        raise Unmappable(f"bad_labels: {what} must be an object of strings")
    _check_bounds(pairs, what)
    return pairs


def _check_bounds(pairs: dict[str, str], what: str) -> None:
    if len(pairs) > MAX_LABELS:
        raise Unmappable(f"bad_labels: more than {MAX_LABELS} {what}")
    if sum(len(name) + len(value) for name, value in pairs.items()) > MAX_LABELS_TEXT:
        raise Unmappable(f"bad_labels: {what} are longer than {MAX_LABELS_TEXT} characters")


def _proto_streams(raw: bytes) -> list[tuple[bytes, list[memoryview]]]:
    """Each stream's labels and its entries' bytes, found on the wire: entries counted to the bound, none parsed."""
    view, streams, count = memoryview(raw), [], 0
    for number, start, end in length_delimited(raw):
        if number != _STREAMS:
            continue
        labels, entries = b"", list[memoryview]()
        for inner, inner_start, inner_end in length_delimited(raw, start, end):
            if inner == _LABELS:
                labels = raw[inner_start:inner_end]
            elif inner == _ENTRIES:
                count_bounded(count)
                count += 1
                entries.append(view[inner_start:inner_end])
        streams.append((labels, entries))
    return streams


def _proto_candidates(streams: list[tuple[bytes, list[memoryview]]], names: LokiLabels
                      ) -> Iterator[dict[str, Any] | Rejected]:
    now = time.time()
    for labels_raw, entries in streams:
        text = labels_raw.decode(errors="replace")
        try:
            labels: dict[str, str] | Unmappable = parse_labels(text)
        except LabelsError as error:
            labels = Unmappable(f"bad_labels: {error}")
        for entry_raw in entries:
            try:
                entry = _proto_entry(entry_raw)
            except Unmappable as unmappable:
                yield Rejected(unmappable.reason, orjson.dumps(
                    {"labels": text[:_SHOWN_LABELS], "entry": f"({len(entry_raw)} bytes of protobuf, not read)"}))
                continue
            line = entry.line.decode(errors="replace")
            nanos = entry.timestamp.seconds * 1_000_000_000 + entry.timestamp.nanos
            try:
                if isinstance(labels, Unmappable):
                    raise labels
                yield _record(labels, nanos, line, _proto_pairs(entry.structuredMetadata), names, now)
            except Unmappable as unmappable:
                yield Rejected(unmappable.reason, orjson.dumps(
                    {"labels": text[:_SHOWN_LABELS], "entry": {"ts": str(nanos), "line": line}}))


def _proto_entry(raw: memoryview) -> Any:
    """One entry parsed alone; over twice the router's record limit it is not parsed at all."""
    if len(raw) > 2 * MAX_RECORD_BYTES:
        raise Unmappable(f"oversized: the entry takes more than {2 * MAX_RECORD_BYTES} bytes of protobuf")
    try:
        return EntryAdapter.FromString(bytes(raw))
    except (DecodeError, RecursionError) as error:
        raise Unmappable(f"bad_protobuf: not a Loki entry ({error})") from None


def _proto_pairs(pairs: Sequence[Any]) -> dict[str, str]:
    if len(pairs) > MAX_LABELS:  # before a dict of them is built
        raise Unmappable(f"bad_labels: more than {MAX_LABELS} structured metadata")
    metadata = {pair.name.decode(errors="replace"): pair.value.decode(errors="replace") for pair in pairs}
    _check_bounds(metadata, "structured metadata")
    return metadata


def _record(labels: dict[str, str], nanos: int, line: str, metadata: dict[str, str], names: LokiLabels,
            now: float) -> dict[str, Any]:
    """The section 2 fields of one entry of a stream with ``labels``."""
    extra: dict[str, Any] = {**labels, **metadata}
    service = next((name for name in names.service if labels.get(name)), None)
    level = next((found for found in map(level_named, map(labels.get, LEVEL_LABELS)) if found), None)
    for name in (service, *LEVEL_LABELS):
        extra.pop(name, None)  # type: ignore[arg-type]  # None is no key: nothing to pop
    record = {
        "timestamp": timestamp_of_nanos(nanos, now),
        "level": level or level_of_line(line) or "INFO",
        "service": labels[service] if service else "unknown_service",
        "message": line,
        "host": pop_text(extra, ("host", "hostname"), OPTIONAL_TEXT_LIMIT),
        "logger": pop_text(extra, ("logger",), OPTIONAL_TEXT_LIMIT),
        "trace_id": pop_text(extra, ("trace_id",), OPTIONAL_TEXT_LIMIT),
        "span_id": pop_text(extra, ("span_id",), OPTIONAL_TEXT_LIMIT),
        "release": pop_name(extra, names.release),
        "environment": pop_name(extra, names.environment),
        "extra": extra,
    }
    return {name: value for name, value in record.items() if value is not None}


def level_of_line(line: str) -> str | None:
    """The level a JSON-object or logfmt line names in its ``level``, ``severity`` or ``lvl`` field, if any."""
    if line.startswith("{") and len(line) <= MAX_RECORD_BYTES:
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if isinstance(document, dict):
            return next((found for found in map(level_named, map(document.get, LINE_LEVEL_KEYS)) if found), None)
        return None
    return _logfmt_level(line[:_LOGFMT_SCAN])


def _logfmt_level(line: str) -> str | None:
    """The level of the first ``level=``/``severity=``/``lvl=`` pair that starts a logfmt token."""
    for key in LINE_LEVEL_KEYS:
        start = line.find(key + "=")
        while start > 0 and not line[start - 1].isspace():  # inside another key or value: look further
            start = line.find(key + "=", start + 1)
        if start >= 0:
            value = line[start + len(key) + 1:].split(None, 1)
            found = level_named(value[0].strip('"')) if value else None
            if found:
                return found
    return None
