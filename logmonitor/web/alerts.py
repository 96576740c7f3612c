"""``GET /api/v1/alerts``: published alerts and open incidents, from every worker's table state."""

from __future__ import annotations

from faust.web import Request, Response

from logmonitor.alerts.listing import incident_order
from logmonitor.read.partials import alert_query
from logmonitor.read.queries import merge_newest
from logmonitor.web.base import ApiView

__all__ = ["AlertsView"]


class AlertsView(ApiView):
    """Alerts, newest first, and the incidents open now."""

    async def get(self, request: Request) -> Response:
        """``?status=firing|resolved&rule=&service=&limit=100`` → ``{"alerts", "active", "count"}``."""
        query = alert_query(request.query)
        partials = await self.gather("alerts", request.query)
        alerts = merge_newest((partial["alerts"] for partial in partials), query.limit, key="at")
        active = sorted((entry for partial in partials for entry in partial["active"]), key=incident_order)
        return self.json({"alerts": alerts, "active": active, "count": len(alerts)})
