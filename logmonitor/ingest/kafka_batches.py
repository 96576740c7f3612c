"""OTLP batches on ``application-logs``: the OpenTelemetry Collector's Kafka exporter writes one
``ExportLogsServiceRequest`` a message (encodings ``otlp_proto`` and ``otlp_json``); the router
expands each into its records.

A batch is told from a record cheaply: OTLP/JSON names ``resourceLogs`` at the start of the
object (the Collector writes it first; a record never has the key); protobuf is tried only for a
value that starts as a protobuf ``resource_logs`` field does and is not JSON, and counts only if
it holds a log record. All records of a batch share its source offset: they are applied to the
tables in the same batch of the router, so a cell's watermark covers all of them or none, and a
replay after a kill counts each exactly once. A record without ``log.record.uid`` gets its place
as id (``<topic>-<partition>-<offset>-<index>``, set by the router), the same at every replay, so
readers de-duplicate its forwarded error as any other.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from logmonitor import compact_json
from logmonitor.ingest.decoded import BodyTooLarge, Rejected, UndecodableBody, parse_json
from logmonitor.ingest.otlp import OtlpBatch, json_batch
from logmonitor.ingest.otlp_proto import proto_batch

__all__ = ["may_be_batch", "records_of"]

_JSON_HEAD = 64  # where "resourceLogs" must start: after the opening brace and a little white space
_JSON_KEY = b'"resourceLogs"'
_PROTOBUF_START = b"\n"  # field 1 (resource_logs), length-delimited


def may_be_batch(value: bytes | None) -> bool:
    """Whether ``value`` can be an OTLP batch at all: a prefix test, before :func:`records_of` reads it as one.

    The router asks for every record that does not carry our handler's header (whose records never are
    batches); nearly all answers are no, found within the value's first bytes.
    """
    return value is not None and (value.startswith(_PROTOBUF_START) or value.find(_JSON_KEY, 0, _JSON_HEAD) >= 0)


def records_of(value: bytes | None, now: float) -> Iterator[tuple[int | None, bytes | Rejected | None]]:
    """The records one message carries, each with its index in the batch: the value itself (index None) if it
    is no OTLP batch; each record of the batch (its section 2 JSON, or why it was rejected) if it is one; the
    whole value rejected (index None) if it is an OTLP batch that cannot be read."""
    try:
        batch = _otlp_batch(value)
    except UndecodableBody as undecodable:
        yield None, Rejected(undecodable.reason, value or b"")
        return
    if batch is None:
        yield None, value
        return
    for index, candidate in enumerate(batch.candidates(now)):
        yield index, candidate if isinstance(candidate, Rejected) else compact_json.dumps(candidate)


def _otlp_batch(value: bytes | None) -> OtlpBatch | None:
    """The OTLP batch ``value`` carries, or None for a value that is no batch.

    Raises:
        BodyTooLarge: a batch beyond the record bound, or whose JSON would take more than
            ``MAX_PARSE_BYTES`` to parse: found before it is built, with work bounded by its size. Parsing
            runs on the event loop (a parser holds the interpreter lock in any thread): these bounds keep
            it a short slice (100,000 records of protobuf: about 0.1 s), and the router yields between records.
        UndecodableBody: a batch whose structure is not OTLP.
    """
    if not value or not may_be_batch(value):
        return None
    if value.find(_JSON_KEY, 0, _JSON_HEAD) >= 0:
        try:
            request = parse_json(value)  # the bound of a JSON body over HTTP
        except BodyTooLarge:
            raise
        except UndecodableBody:
            return None  # not JSON after all: the router dead-letters it as any unreadable record
        if isinstance(request, dict) and isinstance(request.get("resourceLogs"), list):
            return json_batch(request)
        return None
    if not _is_json(value):  # it starts as protobuf does
        try:
            batch = proto_batch(value)
        except BodyTooLarge:
            raise
        except UndecodableBody:
            return None
        return batch if batch.places else None
    return None


def _is_json(value: bytes) -> bool:
    """Whether ``value`` is JSON (a record may start with a newline too); protobuf fails within a few bytes."""
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return True
