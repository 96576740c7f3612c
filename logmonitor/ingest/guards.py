"""What stands in front of every ingest route: request metrics, refusals in each protocol's shape, the token."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from logmonitor.ingest.metrics import REQUESTS
from logmonitor.ingest.refusals import Refusal, refusal_response
from logmonitor.ingest.settings import IngestSettings
from logmonitor.web.browser_guard import BrowserGuard
from logmonitor.web.middleware import request_id, token_matches

__all__ = ["middlewares"]

logger = logging.getLogger(__name__)

_OPEN_PATHS = frozenset({"/health", "/ready"})  # for load balancers and health checks


def _route_of(request: web.Request) -> str:
    """The route's path pattern (a bounded metric label), or ``unmatched``."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def _count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    REQUESTS.labels(_route_of(request), str(response.status)).inc()
    return response


@web.middleware
async def _answer_refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals, aiohttp's own 404/405 and failures, answered as the route's clients read them; no stack traces."""
    try:
        return await handler(request)
    except Refusal as refusal:
        response = refusal_response(request, refusal)
    except web.HTTPException as refusal:
        if refusal.status < 400:
            raise
        response = refusal_response(request, Refusal(refusal.status, refusal.reason.lower().replace(" ", "_"),
                                                     refusal.reason))
    except Exception:
        identifier = request_id(request)
        logger.exception("unhandled error serving %s %s (request %s)", request.method, request.path, identifier)
        response = refusal_response(request, Refusal(500, "internal", "the ingest server failed; its log has the "
                                                     f"details (request id {identifier})"))
    if response.status == 413:
        response.force_close()  # the rest of an oversized body is not worth reading
    return response


def _authenticate(token: str) -> Middleware:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in _OPEN_PATHS and not token_matches(request.headers.get("Authorization"), token):
            raise Refusal(401, "unauthorized", "send Authorization: Bearer <token> or basic auth with the token "
                          "as password (LOGMONITOR_INGEST_TOKEN)",
                          headers={"WWW-Authenticate": 'Basic realm="logmonitor-ingest", charset="UTF-8"'})
        return await handler(request)

    return authenticate


def _refuse_web_pages(settings: IngestSettings) -> Middleware:
    # No origin is configured: browsers cannot ship here cross-site anyway (JSON and protobuf need a
    # preflight, which this server does not answer); a page that tries is refused before its body is read.
    own = [settings.host] if settings.host not in ("0.0.0.0", "::") else []
    guard = BrowserGuard.of(token=settings.token, origins=(), hosts=[*settings.allowed_hosts, *own],
                            hosts_variable="LOGMONITOR_ALLOWED_HOSTS")

    @web.middleware
    async def refuse_web_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in _OPEN_PATHS and (refusal := guard.refusal(request)) is not None:
            raise Refusal(refusal.status, refusal.error, refusal.detail)
        return await handler(request)

    return refuse_web_pages


def middlewares(settings: IngestSettings) -> list[Middleware]:
    """The middlewares, outermost first: count every answer, shape refusals, refuse web pages, check the token."""
    chain: list[Middleware] = [_count_requests, _answer_refusals, _refuse_web_pages(settings)]
    if settings.token:
        chain.append(_authenticate(settings.token))
    return chain
