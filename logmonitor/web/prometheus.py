"""``GET /metrics``: the worker's Prometheus metrics (prometheus_client's exposition)."""

from __future__ import annotations

from faust.web import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from logmonitor.app import app
from logmonitor.metrics import REGISTRY
from logmonitor.web.base import ApiView

__all__ = ["MetricsView"]


@app.page("/metrics")
class MetricsView(ApiView):
    """Counters of routed, forwarded and invalid records for this worker."""

    async def get(self, request: Request) -> Response:
        """The Prometheus text exposition format."""
        response: Response = self.bytes(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST.split(";")[0])
        return response
