"""The Grafana JSON datasource at ``/api/v1/grafana`` (classic SimpleJSON and simPod JSON).

Every answer is built from all workers' table state (the cluster fan-out), so Grafana may
point at any worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.web import Request, Response

from logmonitor.read import grafana
from logmonitor.read.queries import merge_counts, merge_newest
from logmonitor.timestamps import LATEST
from logmonitor.web.base import ApiView
from logmonitor.web.errors import BadParameter

__all__ = ["ROOT", "ROUTES", "GrafanaRootView", "GrafanaRouteView", "GrafanaSlashView", "GrafanaView"]

ROOT = "/api/v1/grafana"


async def _body(request: Request) -> dict[str, Any]:
    try:
        return grafana.parse_body(await request.read())
    except grafana.GrafanaRequestError as error:
        raise BadParameter(str(error)) from None


async def _services(view: ApiView) -> list[str]:
    partials = await view.gather("summary", {})
    return sorted({name for partial in partials for name in partial["profiles"]})


async def _events(view: ApiView, since: float, until: float, kinds: str = "") -> list[dict[str, Any]]:
    window = {"since": str(since), "until": str(until)}
    criticals = merge_newest(await view.gather("errors", {**window, "level": "CRITICAL", "limit": "1000"}),
                             1000)
    groups = [group for partial in await view.gather("groups", {"limit": "1000"}) for group in partial]
    alerts = [alert for partial in await view.gather("alerts", {"limit": "1000"})
              for alert in partial["alerts"]]
    return grafana.annotation_events(criticals, groups, alerts, since, until, kinds)


def _object(body: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    return value if isinstance(value, dict) else {}


def _parsed(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except grafana.GrafanaRequestError as error:
        raise BadParameter(str(error)) from None


class GrafanaView(ApiView):
    """Dispatches ``POST /api/v1/grafana/<route>`` to the protocol's routes."""

    async def get(self, request: Request, route: str = "") -> Response:
        """The connection test Grafana runs when the datasource is saved; the routes want POST."""
        if route:
            return self.json({"error": "method_not_allowed", "detail": f"use POST for {ROOT}/{route[:50]}"},
                             status=405, headers={"Allow": "POST"})
        return self.json({"status": "ok", "datasource": "logmonitor"})

    async def post(self, request: Request, route: str = "") -> Response:
        """Answer one datasource route; unknown routes are 404."""
        handler = ROUTES.get(route)
        if handler is None:
            return self.json({"error": "not_found", "detail": f"no Grafana route {route!r}"}, status=404)
        return self.json(await handler(self, request, await _body(request)))


async def _search(view: ApiView, request: Request, body: Mapping[str, Any]) -> Any:
    return [name for name in grafana.TARGETS if name != "annotations"]


async def _metrics(view: ApiView, request: Request, body: Mapping[str, Any]) -> Any:
    return grafana.metric_names()


async def _payload_options(view: ApiView, request: Request, body: Mapping[str, Any]) -> Any:
    name = body.get("name")
    if name == "service":
        return [{"label": service, "value": service} for service in await _services(view)]
    if name == "level":
        return [{"label": level, "value": level} for level in grafana.level_options()]
    if name == "format":
        return [{"label": "time series", "value": "series"}, {"label": "table", "value": "table"}]
    return []


async def _query(view: ApiView, request: Request, body: Mapping[str, Any]) -> Any:
    query = _parsed(grafana.parse_query, body)
    if not query.targets:
        return []
    window = {"since": str(query.bucket_starts.start), "until": str(min(query.until + 1, LATEST))}
    counts = merge_counts(await view.gather("counts", window))
    wants_events = any(target.name == "annotations" for target in query.targets)
    events = await _events(view, query.since, query.until) if wants_events else []
    return _parsed(grafana.results, query, counts, events, view.context.settings.grafana_max_points)


async def _annotations(view: ApiView, request: Request, body: Mapping[str, Any]) -> Any:
    since, until = _parsed(grafana.time_range, body)
    annotation = _object(body, "annotation")
    kinds = annotation.get("query")
    kinds = kinds if isinstance(kinds, str) else ""
    return [{"annotation": annotation, **event} for event in await _events(view, since, until, kinds)]


async def _tag_keys(view: ApiView, request: Request, body: Mapping[str, Any]) -> Any:
    return [{"type": "string", "text": "service"}, {"type": "string", "text": "level"}]


async def _tag_values(view: ApiView, request: Request, body: Mapping[str, Any]) -> Any:
    key = body.get("key")
    if key == "service":
        return [{"text": service} for service in await _services(view)]
    if key == "level":
        return [{"text": level} for level in grafana.level_options()]
    return []


async def _variable(view: ApiView, request: Request, body: Mapping[str, Any]) -> Any:
    payload = _object(body, "payload")
    if payload.get("target") == "level":
        return [{"__text": level, "__value": level} for level in grafana.level_options()]
    return [{"__text": service, "__value": service} for service in await _services(view)]


ROUTES = {
    "search": _search, "metrics": _metrics, "metric-payload-options": _payload_options, "query": _query,
    "annotations": _annotations, "tag-keys": _tag_keys, "tag-values": _tag_values, "variable": _variable,
}


class GrafanaRootView(GrafanaView):
    """``/api/v1/grafana`` (simPod tests the URL as configured)."""


class GrafanaSlashView(GrafanaView):
    """``/api/v1/grafana/`` (SimpleJSON tests ``url + '/'``)."""


class GrafanaRouteView(GrafanaView):
    """``POST /api/v1/grafana/<route>``."""
