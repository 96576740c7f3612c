"""``GET /metrics``: the worker's Prometheus metrics (prometheus_client's exposition)."""

from __future__ import annotations

import asyncio

from faust.web import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from logmonitor.metrics import REGISTRY
from logmonitor.web.base import ApiView

__all__ = ["MetricsView"]


class MetricsView(ApiView):
    """Counters of routed, forwarded and invalid records for this worker."""

    async def get(self, request: Request) -> Response:
        """The Prometheus text exposition format (rendered in a thread: a big registry takes a while)."""
        body = await asyncio.get_running_loop().run_in_executor(None, generate_latest, REGISTRY)
        response: Response = self.bytes(body, content_type=CONTENT_TYPE_LATEST.split(";")[0])
        return response
