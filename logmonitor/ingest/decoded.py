"""What a decoder gives back: the records to produce, the records it rejected, or an undecodable body.

Records that come in this way are foreign records: the router redacts every record that lacks
our handler's redaction header, so the decoders do not redact (DESIGN section 6).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from logmonitor import compact_json
from logmonitor.pipeline.records import InvalidRecord, parse_record

__all__ = [
    "MAX_DECODED_BYTES", "MAX_RECORDS_PER_BODY", "BodyTooLarge", "Decoded", "Rejected", "UndecodableBody", "collect",
    "count_bounded", "json_raw", "new_id",
]

MAX_RECORDS_PER_BODY = 100_000
"""The most records one body (a request, or one OTLP batch on Kafka) may carry: Vector's loki sink sends
up to 100,000 events a batch, the Collector's batch processor 8,192 by default."""
MAX_DECODED_BYTES = 64 * 1024 * 1024
"""The most bytes of records one body may decode to: labels and resource attributes are copied into each of
their records, so a small body could otherwise fill the memory."""


@dataclass(frozen=True)
class Rejected:
    """A record that cannot be used: ``reason`` as ``records.InvalidRecord.reason``, ``raw`` its bytes for the DLQ."""

    reason: str
    raw: bytes


@dataclass
class Decoded:
    """A decoded body: ``(kafka key = service, value = record JSON)`` to produce, and the rejected records."""

    records: list[tuple[str, bytes]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class UndecodableBody(ValueError):
    """The whole body is unreadable (the server answers 400); ``reason`` is ``"<code>: <detail>"``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BodyTooLarge(UndecodableBody):
    """The body declares or holds more than the limits allow (the server answers 413)."""


def new_id() -> str:
    """A fresh record id (DESIGN section 2: uuid4 hex)."""
    return uuid.uuid4().hex


def collect(candidates: Iterable[dict[str, Any] | Rejected], now: float | None = None) -> Decoded:
    """The records of ``candidates`` (section 2 fields; a fresh id where none is set), each checked as the router would.

    A candidate the router's own parser refuses is rejected with the router's reason, so what
    a decoder produces the router takes as it is.
    """
    decoded, size = Decoded(), 0
    for candidate in candidates:
        if isinstance(candidate, Rejected):
            decoded.rejected.append(candidate)
            size += len(candidate.raw)
        else:
            if candidate.get("id") is None:
                candidate["id"] = new_id()
            raw = compact_json.dumps(candidate)
            size += len(raw)
            try:
                decoded.records.append((parse_record(raw, now=now)["service"], raw))
            except InvalidRecord as invalid:
                decoded.rejected.append(Rejected(invalid.reason, raw))
        if size > MAX_DECODED_BYTES:
            raise BodyTooLarge(f"too_large: the records of this body take more than {MAX_DECODED_BYTES} bytes")
    return decoded


def json_raw(value: Any) -> bytes:
    """``value`` (read from a request's JSON) as JSON again, for a dead letter; a placeholder when it nests too deep."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:  # orjson reads 1,024 levels, writes 255
        return b'"(not kept: nested deeper than 255 levels)"'


def count_bounded(index: int) -> None:
    """Raise :class:`BodyTooLarge` once the ``index``-th record (from 0) is past :data:`MAX_RECORDS_PER_BODY`."""
    if index >= MAX_RECORDS_PER_BODY:
        raise BodyTooLarge(f"too_many_records: a body may carry at most {MAX_RECORDS_PER_BODY} records")
