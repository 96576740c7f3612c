"""The base of every API view: JSON errors as ``{"error", "detail"}``, the app's context, answers from every worker."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

import faust
from aiohttp import web
from faust.web import Request, Response
from faust.web.exceptions import WebError

from logmonitor.read.cluster import gather
from logmonitor.server.context import AppContext, context_of
from logmonitor.web.errors import Unavailable
from logmonitor.web.middleware import request_id

__all__ = ["ApiView"]

logger = logging.getLogger(__name__)


class ApiView(faust.web.View):
    """A view whose errors are JSON bodies and never stack traces."""

    async def on_request_error(self, request: Request, exc: WebError) -> Response:
        """Answer ``{"error", "detail"}`` with the error's status; an :class:`Unavailable`'s detail goes to the log."""
        code = getattr(exc, "error", None) or type(exc).__name__.lower()
        detail = exc.detail
        if isinstance(exc, Unavailable):
            identifier = request_id(cast(web.BaseRequest, request))  # faust's Request is aiohttp's
            logger.warning("%s %s (request %s): %s", request.method, request.url.path, identifier, exc.detail)
            detail = f"{exc.message} (request id {identifier})"
        return self.json({"error": code, "detail": detail}, status=exc.code or 400)

    @property
    def context(self) -> AppContext:
        """The context of the app this view serves."""
        return context_of(self.app)

    async def gather(self, kind: str, query: Mapping[str, str]) -> list[Any]:
        """Every worker's partial answer of ``kind`` for ``query`` (``read/cluster.py``)."""
        return await gather(self.context, kind, query)
