"""Refused requests, answered in the shape each protocol's clients read.

Our and Loki's routes answer ``{"error", "detail"}`` JSON (DESIGN section 5). OTLP/HTTP
clients expect a ``google.rpc.Status`` in the request's encoding (protobuf or JSON) on every
4xx and 5xx, and retry 429, 502, 503 and 504 after ``Retry-After``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from aiohttp import web

__all__ = ["OTLP_PATH", "PROTOBUF", "Refusal", "refusal_response", "wants_protobuf"]

OTLP_PATH = "/v1/logs"
PROTOBUF = "application/x-protobuf"

# google.rpc.Code of each HTTP status we answer (the mapping gRPC gateways use).
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 413: 8, 415: 3, 421: 7, 429: 8, 500: 13, 503: 14}
_UNKNOWN = 2


@dataclass(eq=False)
class Refusal(Exception):
    """A request the server does not take: its status, error code and what the client should do."""

    status: int
    error: str
    detail: str
    retry_after: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_reason(cls, status: int, reason: str) -> Refusal:
        """From a decoder's ``"<code>: <detail>"`` reason."""
        code, _, detail = reason.partition(": ")
        return cls(status, code, detail or code)


def wants_protobuf(request: web.BaseRequest) -> bool:
    """Whether the request's body (so its answer) is protobuf rather than JSON."""
    return request.content_type == PROTOBUF


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _status(code: int, message: str, *, proto: bool) -> bytes:
    """A ``google.rpc.Status`` with ``code`` and ``message`` (no details), in protobuf or OTLP JSON."""
    if not proto:
        return orjson.dumps({"code": code, "message": message})
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def refusal_response(request: web.BaseRequest, refusal: Refusal) -> web.Response:
    """The answer to ``request`` for ``refusal``: a Status on the OTLP route, else the API's JSON error."""
    headers = dict(refusal.headers)
    if refusal.retry_after is not None:
        headers["Retry-After"] = str(refusal.retry_after)
    if request.path == OTLP_PATH:
        proto = wants_protobuf(request)
        body = _status(_GRPC_CODES.get(refusal.status, _UNKNOWN), f"{refusal.error}: {refusal.detail}", proto=proto)
        return web.Response(status=refusal.status, body=body, headers=headers,
                            content_type=PROTOBUF if proto else "application/json")
    return web.Response(status=refusal.status, body=orjson.dumps({"error": refusal.error, "detail": refusal.detail}),
                        headers=headers, content_type="application/json")
