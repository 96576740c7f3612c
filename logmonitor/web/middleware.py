"""What stands in front of every route: authentication, CORS and security headers (DESIGN section 6)."""

from __future__ import annotations

import base64
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from logmonitor.peer_credential import HEADER, credential_valid, peer_key
from logmonitor.settings import Settings
from logmonitor.web.browser_guard import BrowserGuard

__all__ = ["CONTENT_SECURITY_POLICY", "add_security_headers", "middlewares", "request_id", "token_matches",
           "worker_guard"]

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

_OPEN_PATHS = frozenset({"/api/v1/health"})
_PEER_PATHS = "/api/v1/internal/"  # what workers ask each other, with a credential derived from the token
_BODY_HEADERS = frozenset({"content-type", "content-length"})
_CORS_HEADERS = "accept, content-type, authorization"
# Log text is attacker-controlled: no inline script or style, nothing from elsewhere, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


_REQUEST_ID = web.RequestKey("request_id", str)


def request_id(request: web.BaseRequest) -> str:
    """The id of ``request``, made on first use: its answer's ``X-Request-Id`` and the log lines about it.

    An answer that must not show what went wrong (an exception's text, a peer's address) shows
    this id instead, so an operator finds the details in the log.
    """
    found = request.get(_REQUEST_ID)
    if found is None:
        found = request[_REQUEST_ID] = uuid.uuid4().hex
    return found


def _json_error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps({"error": error, "detail": detail}),
                        content_type="application/json", headers=headers)


def token_matches(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries ``token`` (Bearer, or Basic with it as password).

    The comparison is constant-time; the Basic user name is ignored (Grafana sends one). A header
    that is not even well-formed (non-ASCII base64, bytes that are not UTF-8) simply does not match.
    """
    if not header:
        return False
    try:
        supplied = _supplied_token(header)
    except (ValueError, UnicodeError):  # binascii.Error is a ValueError
        return False
    return hmac.compare_digest(supplied, token.encode())


def _supplied_token(header: str) -> bytes:
    """The token an Authorization header offers, as bytes (empty for other schemes)."""
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        # aiohttp keeps header bytes that are not UTF-8 as surrogates: encoding them raises, as it should
        return credentials.strip().encode()
    if scheme.lower() == "basic":
        return base64.b64decode(credentials.strip().encode("ascii"), validate=True).partition(b":")[2]
    return b""


def _from_peer(request: web.Request, key: bytes) -> bool:
    """Whether ``request`` is a peer worker's, signed with the key derived from the token (``peer_credential.py``)."""
    credential = request.headers.get(HEADER)
    return (credential is not None and request.path.startswith(_PEER_PATHS)
            and credential_valid(key, credential, request.method, request.raw_path, time.time()))


def _auth(token: str) -> Middleware:
    key = peer_key(token)

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in _OPEN_PATHS or request.method == "OPTIONS" or _from_peer(request, key):
            return await handler(request)
        if not token_matches(request.headers.get("Authorization"), token):
            return _json_error(401, "unauthorized", "send Authorization: Bearer <token> or basic auth",
                               {"WWW-Authenticate": 'Basic realm="logmonitor", charset="UTF-8"'})
        return await handler(request)

    return authenticate


def worker_guard(settings: Settings) -> BrowserGuard:
    """The worker's guard against web pages: its CORS origins; without a token, loopback, configured and own names."""
    own = [host for host in (settings.advertised_host, settings.web_host) if host not in ("0.0.0.0", "::")]
    return BrowserGuard.of(token=settings.auth_token, origins=settings.cors_origins,
                           hosts=[*settings.allowed_hosts, *own], hosts_variable="LOGMONITOR_ALLOWED_HOSTS")


def _guard(guard: BrowserGuard) -> Middleware:
    @web.middleware
    async def refuse_web_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in _OPEN_PATHS and (refusal := guard.refusal(request)) is not None:
            return _json_error(refusal.status, refusal.error, refusal.detail)
        return await handler(request)

    return refuse_web_pages


def _cors(origins: tuple[str, ...]) -> Middleware:
    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = origin is not None and ("*" in origins or origin in origins)
        if request.method == "OPTIONS" and allowed and "Access-Control-Request-Method" in request.headers:
            response: web.StreamResponse = web.Response(status=204)
        else:
            response = await handler(request)
        if allowed and origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = _CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
            response.headers["Vary"] = "Origin"
        return response

    return cors


@web.middleware
async def _no_stack_traces(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as refusal:
        if refusal.status < 400 or refusal.content_type == "application/json":
            raise
        return _as_json_error(refusal)
    except Exception:
        identifier = request_id(request)
        logger.exception("unhandled error serving %s %s (request %s)", request.method, request.path, identifier)
        return _json_error(500, "internal", f"the server failed to answer; the worker log has the details "
                           f"(request id {identifier})")


def _as_json_error(refusal: web.HTTPException) -> web.Response:
    """aiohttp's own plain-text refusals (no route 404, 405, body too large 413) in the API's error shape."""
    kept = {name: value for name, value in refusal.headers.items() if name.lower() not in _BODY_HEADERS}
    code = refusal.reason.lower().replace(" ", "_")
    detail = refusal.text.removeprefix(f"{refusal.status}: ") if refusal.text else refusal.reason
    return _json_error(refusal.status, code, detail, kept)


async def add_security_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """Set the security headers on ``response`` (an ``on_response_prepare`` signal handler).

    A signal rather than a middleware, because aiohttp prepares the responses it answers itself
    (404, 405, 413) and those a middleware returns early (401) outside any inner middleware.
    """
    headers = response.headers
    headers.setdefault("X-Request-Id", request_id(request))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cache-Control", "no-store")  # API answers may hold log text; views that may be cached say so


def middlewares(settings: Settings) -> list[Middleware]:
    """The middlewares the settings ask for, outermost first."""
    chain: list[Middleware] = []
    if settings.cors_origins:
        chain.append(_cors(settings.cors_origins))
    # Outside the checks of a request's headers, so that a malformed one never reaches the client as a trace.
    chain.append(_no_stack_traces)
    chain.append(_guard(worker_guard(settings)))
    if settings.auth_token:
        chain.append(_auth(settings.auth_token))
    return chain
