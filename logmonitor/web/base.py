"""The base of every API view: JSON errors as ``{"error", "detail"}``, the app's context, answers from every worker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust
from faust.web import Request, Response
from faust.web.exceptions import WebError

from logmonitor.read.cluster import gather
from logmonitor.server.context import AppContext, context_of

__all__ = ["ApiView"]


class ApiView(faust.web.View):
    """A view whose errors are JSON bodies and never stack traces."""

    async def on_request_error(self, request: Request, exc: WebError) -> Response:
        """Answer ``{"error", "detail"}`` with the error's status."""
        code = getattr(exc, "error", None) or type(exc).__name__.lower()
        return self.json({"error": code, "detail": exc.detail}, status=exc.code or 400)

    @property
    def context(self) -> AppContext:
        """The context of the app this view serves."""
        return context_of(self.app)

    async def gather(self, kind: str, query: Mapping[str, str], request: Request) -> list[Any]:
        """Every worker's partial answer of ``kind`` for ``query`` (``read/cluster.py``), as the caller may ask."""
        return await gather(self.context, kind, query, request.headers)
