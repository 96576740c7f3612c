"""What a decoder gives back: the records to produce, the records it rejected, or an undecodable body.

Records that come in this way are foreign records: the router redacts every record that lacks
our handler's redaction header, so the decoders do not redact (DESIGN section 6).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from logmonitor import compact_json
from logmonitor.pipeline.records import InvalidRecord, parse_record

__all__ = [
    "MAX_DECODED_BYTES", "MAX_PARSE_BYTES", "MAX_RECORDS_PER_BODY", "BodyTooLarge", "Decoded", "Hold", "OverBudget",
    "Rejected", "UndecodableBody", "collect", "count_bounded", "hold_nothing", "json_parse_cost", "json_raw",
    "new_id", "parse_json",
]

MAX_RECORDS_PER_BODY = 100_000
"""The most records one body (a request, or one OTLP batch on Kafka) may carry: Vector's loki sink sends
up to 100,000 events a batch, the Collector's batch processor 8,192 by default."""
MAX_DECODED_BYTES = 64 * 1024 * 1024
"""The most bytes of records one body may decode to: labels and resource attributes are copied into each of
their records, so a small body could otherwise fill the memory."""
MAX_PARSE_BYTES = 128 * 1024 * 1024
"""The most memory parsing one JSON body may take, as :func:`json_parse_cost` estimates it. Parsed JSON is
15 to 21 times its text for real records and up to 36 times for hostile ones (many empty objects): this
takes about 8 MiB of OTLP/JSON records or 19 MiB of Loki JSON lines a body (protobuf has no such cost)."""
_HOLD_STEP = 256 * 1024  # decoded bytes are held in steps of this, not record by record

Hold = Callable[[int], None]
"""Holds ``size`` more bytes of the request against the server's in-flight bound; raises :class:`OverBudget`
when they do not fit, :class:`BodyTooLarge` when they never could."""


def hold_nothing(size: int) -> None:
    """A :data:`Hold` that holds nothing: for decoding outside a server (tests, the router's batches)."""


class OverBudget(Exception):
    """The server holds as many bytes as it may: the request is refused for now (429), not queued."""


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


def collect(candidates: Iterable[dict[str, Any] | Rejected], now: float | None = None, hold: Hold = hold_nothing
            ) -> Decoded:
    """The records of ``candidates`` (section 2 fields; a fresh id where none is set), each checked as the router would.

    A candidate the router's own parser refuses is rejected with the router's reason, so what
    a decoder produces the router takes as it is. The bytes produced are held (``hold``) as they
    are produced: decoded bytes count against the server's in-flight bound, not only the body's.
    """
    decoded, size, held = Decoded(), 0, 0
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
        if size - held >= _HOLD_STEP:
            hold(size - held)
            held = size
    hold(size - held)
    return decoded


def json_parse_cost(body: bytes) -> int:
    """An estimate of the memory ``orjson.loads(body)`` takes, from counts of its structure (C speed, no parse).

    Parsed JSON is many times its text, most of all for many small values (``{}`` is 2 bytes of
    text, 64 of dict and 8 of list): the weights are at or above what CPython 3.11 takes for the
    hostile shapes (empty objects and arrays, tiny objects, numbers) and near it for real records.
    """
    return (200 * body.count(b"{") + 90 * body.count(b"[") + 30 * body.count(b'"') + 32 * body.count(b",")
            + len(body))


def parse_json(body: bytes, hold: Hold = hold_nothing, limit: int = MAX_PARSE_BYTES) -> Any:
    """``body`` parsed, once what parsing takes is estimated, bounded and held.

    Raises:
        BodyTooLarge: parsing would take more than ``limit`` bytes.
        UndecodableBody: not JSON.
    """
    cost = json_parse_cost(body)
    if cost > limit:
        raise BodyTooLarge(f"too_large: this JSON body would take about {cost} bytes to parse, more than {limit}; "
                           "send smaller batches")
    hold(cost)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise UndecodableBody(f"bad_json: {error}") from None


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
