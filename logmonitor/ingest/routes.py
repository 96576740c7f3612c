"""The ingest routes: read a body within the limits, decode it off the loop, answer once Kafka acknowledged."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from logmonitor.ingest.decoded import BodyTooLarge, Decoded, Hold, OverBudget, UndecodableBody
from logmonitor.ingest.loki import decode_loki_json, decode_loki_proto
from logmonitor.ingest.metrics import BODY_BYTES, INGEST_REGISTRY
from logmonitor.ingest.ndjson import decode_ndjson
from logmonitor.ingest.otlp import decode_otlp_json, export_response
from logmonitor.ingest.otlp_proto import decode_otlp_proto
from logmonitor.ingest.publisher import InFlight, KafkaUnavailable, Publisher
from logmonitor.ingest.readiness import Readiness
from logmonitor.ingest.refusals import OTLP_PATH, PROTOBUF, Refusal, wants_protobuf
from logmonitor.ingest.settings import IngestSettings
from logmonitor.web.middleware import request_id

__all__ = ["LOKI_PATH", "NDJSON_PATH", "STATE", "IngestState", "setup_routes"]

LOKI_PATH = "/loki/api/v1/push"
NDJSON_PATH = "/api/v1/ingest"
# Seconds a shipper should wait: Kafka away takes a while to come back; a full server drains fast.
KAFKA_RETRY_AFTER = 5
BUSY_RETRY_AFTER = 1
# Content-Encoding values aiohttp decompresses while reading (within the body limit); "snappy" is
# what some Loki clients announce for the snappy-framed protobuf the decoder reads itself.
_ENCODINGS = frozenset({"", "identity", "gzip", "deflate"})
# Never text/plain: a web page may send that to any site without a CORS preflight.
_NDJSON_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/json"})



class Decoder(Protocol):
    """A body's decoder, holding what it builds against the in-flight bound as it goes (``hold``)."""

    def __call__(self, body: bytes, *, hold: Hold) -> Decoded:
        """The records of ``body``."""


class _Held:
    """What one request holds of the in-flight bound: its body as it was read, then what decoding it builds."""

    def __init__(self, in_flight: InFlight, size: int) -> None:
        self.in_flight, self.size = in_flight, size

    def hold(self, size: int) -> None:
        """Hold ``size`` more bytes (called from the executor); :class:`OverBudget` when they do not fit."""
        if not self.in_flight.try_take(size, own=self.size):
            raise OverBudget
        self.size += size

    def release(self) -> None:
        """Give back all of it."""
        self.in_flight.give_back(self.size)

logger = logging.getLogger(__name__)


@dataclass
class IngestState:
    """What every request shares: the settings, the bound on bytes in flight, the publisher and Kafka's readiness."""

    settings: IngestSettings
    in_flight: InFlight
    publisher: Publisher
    readiness: Readiness


STATE = web.AppKey("state", IngestState)


def _decoder(request: web.Request, decoders: Mapping[str, Decoder], extra_encodings: frozenset[str] = frozenset()
             ) -> Decoder:
    """The decoder for the request's Content-Type, refusing unsupported types and encodings (415)."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in _ENCODINGS | extra_encodings:
        raise Refusal(415, "unsupported_encoding", f"Content-Encoding {encoding!r}: send gzip or none")
    decoder = decoders.get(request.content_type)
    if decoder is None:
        raise Refusal(415, "unsupported_media_type",
                      f"Content-Type {request.content_type!r}: send one of {', '.join(sorted(decoders))}")
    return decoder


_CHUNK = 64 * 1024


def _busy() -> Refusal:
    return Refusal(429, "busy", "this ingest server holds as many bytes as it may; retry after Retry-After",
                   retry_after=BUSY_RETRY_AFTER)


async def _read_body(request: web.Request, limit: int, in_flight: InFlight) -> bytes:
    """The body, decompressed by aiohttp as it streams in, each piece held in ``in_flight`` as it arrives.

    So bodies being read count against the bound too: many slow senders get 429, not memory. Past
    ``limit`` bytes (counted after decompression: gzip bombs stop there) the answer is 413.
    """
    parts: list[bytes] = []
    held = 0
    try:
        async for chunk in request.content.iter_chunked(_CHUNK):
            if held + len(chunk) > limit:
                raise Refusal(413, "body_too_large", f"the body is over {limit} bytes (counted after "
                              "decompression); send smaller batches")
            if not in_flight.try_take(len(chunk), own=held):
                raise _busy()
            held += len(chunk)
            parts.append(chunk)
    except web.RequestPayloadError:  # a broken gzip, or a body cut short
        in_flight.give_back(held)
        raise Refusal(400, "undecodable_body", "the body ended early or does not decompress as its "
                      "Content-Encoding says") from None
    except BaseException:
        in_flight.give_back(held)
        raise
    return b"".join(parts)


async def _ingest(request: web.Request, route: str, decode: Decoder) -> Decoded:
    """Read, decode and publish the request's records; raise a :class:`Refusal` for any way that fails."""
    state = request.app[STATE]
    if state.in_flight.full:
        raise _busy()
    body = await _read_body(request, state.settings.max_body_bytes, state.in_flight)
    BODY_BYTES.labels(route).inc(len(body))
    held = _Held(state.in_flight, len(body))
    release = held.release
    try:
        decoded = await asyncio.get_running_loop().run_in_executor(None, functools.partial(decode, body,
                                                                                           hold=held.hold))
    except OverBudget:
        release()
        raise _busy() from None
    except BodyTooLarge as too_large:
        release()
        raise Refusal.from_reason(413, too_large.reason) from None
    except UndecodableBody as undecodable:
        release()
        raise Refusal.from_reason(400, undecodable.reason) from None
    except BaseException:
        release()
        raise
    del body
    try:
        await state.publisher.publish(decoded, {"ingest": route, "content_type": request.content_type}, route, release)
    except KafkaUnavailable as unavailable:
        # What Kafka said names topics, partitions and brokers: for the log, not for whoever sent the body.
        identifier = request_id(request)
        logger.warning("request %s to %s: %s", identifier, route, unavailable)
        raise Refusal(503, "kafka_unavailable", "Kafka did not acknowledge the records in time; nothing of this "
                      f"request is acknowledged, send it again (request id {identifier})",
                      retry_after=KAFKA_RETRY_AFTER) from None
    return decoded


async def otlp_logs(request: web.Request) -> web.Response:
    """``POST /v1/logs``: OTLP/HTTP ``ExportLogsServiceRequest``, protobuf or JSON."""
    decode = _decoder(request, {PROTOBUF: decode_otlp_proto, "application/json": decode_otlp_json})
    decoded = await _ingest(request, OTLP_PATH, decode)
    proto = wants_protobuf(request)
    reasons = sorted({rejected.reason for rejected in decoded.rejected})
    message = f"rejected to the dead-letter topic: {'; '.join(reasons[:5])}" if reasons else ""
    return web.Response(body=export_response(len(decoded.rejected), message, proto=proto),
                        content_type=PROTOBUF if proto else "application/json")


async def loki_push(request: web.Request) -> web.Response:
    """``POST /loki/api/v1/push``: Loki's JSON or snappy protobuf ``PushRequest``; 204 as Loki answers."""
    settings = request.app[STATE].settings
    labels = settings.loki_labels
    decode = _decoder(request, {
        "application/json": functools.partial(decode_loki_json, labels=labels),
        PROTOBUF: functools.partial(decode_loki_proto, labels=labels, max_bytes=settings.max_body_bytes),
    }, extra_encodings=frozenset({"snappy"}))
    await _ingest(request, LOKI_PATH, decode)
    return web.Response(status=204)


async def ndjson_ingest(request: web.Request) -> web.Response:
    """``POST /api/v1/ingest``: NDJSON of our own records; ``{"accepted", "rejected"}``."""
    decode = _decoder(request, dict.fromkeys(_NDJSON_TYPES, decode_ndjson))
    decoded = await _ingest(request, NDJSON_PATH, decode)
    return web.json_response({"accepted": len(decoded.records), "rejected": len(decoded.rejected)})


async def health(_request: web.Request) -> web.Response:
    """``GET /health``: 200 while the server takes requests (for load balancers; no token needed)."""
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """``GET /ready``: 200 while Kafka answers the producer, else 503 (no token needed; checked every second)."""
    readiness = request.app[STATE].readiness
    if readiness.ready:
        return web.json_response({"status": "ready"})
    raise Refusal(503, "kafka_unavailable", "Kafka does not answer this ingest server; requests would get 503",
                  retry_after=KAFKA_RETRY_AFTER)


async def metrics(_request: web.Request) -> web.Response:
    """``GET /metrics``: the ingest server's Prometheus metrics."""
    body = await asyncio.get_running_loop().run_in_executor(None, generate_latest, INGEST_REGISTRY)
    return web.Response(body=body, content_type=CONTENT_TYPE_LATEST.split(";")[0])


def setup_routes(app: web.Application) -> None:
    """Every route of the ingest server, in one place."""
    app.router.add_post(OTLP_PATH, otlp_logs)
    app.router.add_post(LOKI_PATH, loki_push)
    app.router.add_post(NDJSON_PATH, ndjson_ingest)
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/metrics", metrics)
