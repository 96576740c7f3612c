"""``GET /api/v1/health``: 200 once the worker consumes, 503 while it starts or recovers."""

from __future__ import annotations

import faust
from faust.web import Request, Response

from logmonitor.server.readiness import readiness

__all__ = ["HealthView"]


class HealthView(faust.web.View):
    """Readiness for load balancers and orchestrators; never requires authentication."""

    async def get(self, request: Request) -> Response:
        """Answer 200 ``{"status": "ok"}`` when consuming, else 503 with the current state."""
        ready, state = readiness(self.app)
        body = {"status": "ok" if ready else "unavailable", "state": state}
        return self.json(body, status=200 if ready else 503)
