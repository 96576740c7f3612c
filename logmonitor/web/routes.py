"""The route table: every path the web server answers, its view, and the OpenAPI document generated from it.

To add an endpoint: write its view (a subclass of ``web/base.py``'s ``ApiView``) and add one
:class:`Route` here; the document at ``/api/v1/openapi.json`` follows, and a test checks that
every route is documented and every documented path answers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import faust
from faust.web import Request, Response

from logmonitor.pipeline.native_shape import OPTIONAL_TEXT_LIMIT
from logmonitor.read.group_triage import MAX_CURSOR, SORTS
from logmonitor.read.partials import PARTIALS
from logmonitor.read.releases import MAX_CURSOR as RELEASES_CURSOR
from logmonitor.read.releases import MAX_LIMIT as RELEASES_LIMIT
from logmonitor.triage.commands import MAX_REASON, SETTABLE, SHOWN
from logmonitor.web import grafana
from logmonitor.web.alerts import AlertsView
from logmonitor.web.base import ApiView
from logmonitor.web.dashboard import FILES, DashboardView, StaticView
from logmonitor.web.groups import GroupListView, GroupView
from logmonitor.web.health import HealthView
from logmonitor.web.logs import ErrorsView, PartialView, ReleasesView, ServiceErrorsView, ServicesView, StatsView
from logmonitor.web.openapi import LEVEL, LIMIT, TEXT, TIME, PathItem, document, get, param, patch, post
from logmonitor.web.prometheus import MetricsView
from logmonitor.web.stream import SeriesView, StreamView, TailView

__all__ = ["ROUTES", "OpenApiView", "Route", "add_routes", "openapi_document"]


@dataclass(frozen=True)
class Route:
    """One path of the web server, its view, and the paths the OpenAPI document lists for it.

    A route with a path parameter whose values are fixed (Grafana's ``{route}``) lists each value.
    """

    path: str
    view: type[faust.web.View]
    documented: Mapping[str, PathItem]


def _route(path: str, view: type[faust.web.View], item: PathItem) -> Route:
    return Route(path, view, {path: item})


class OpenApiView(ApiView):
    """The OpenAPI document."""

    async def get(self, request: Request) -> Response:
        """The OpenAPI 3 document of the HTTP interface."""
        return self.json(openapi_document())


_ERROR_FILTERS = [param("limit", LIMIT), param("level", LEVEL), param("since", TIME), param("until", TIME),
                  param("q", TEXT)]
_GRAFANA_SUMMARIES = {
    "search": "target names (SimpleJSON)", "metrics": "target names with payload options (simPod)",
    "metric-payload-options": "values for a payload option", "query": "time series, tables, annotation frames",
    "annotations": "CRITICAL errors, new error groups and alerts (SimpleJSON)", "tag-keys": "ad-hoc filter keys",
    "tag-values": "ad-hoc filter values", "variable": "template variable values",
}
_CONNECTION_TEST = get("Grafana's connection test")
_ID_TEXT = {"type": "string", "maxLength": OPTIONAL_TEXT_LIMIT}
_TRACE_FILTERS = [param("trace_id", _ID_TEXT, doc="one trace's errors, of every service"),
                  param("request_id", _ID_TEXT, doc="one request's errors, of every service")]
_LIVE_FILTERS = [
    param("service", TEXT), param("level", LEVEL, doc="exactly this level"),
    param("min_level", LEVEL, doc="this level and the more severe ones"),
    param("q", TEXT, doc="case-insensitive substring of the message, logger, exception type or message")]

_GROUP_ID = param("id", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,512}$"}, "path",
                  "the id GET /api/v1/logs/groups lists: the service and fingerprint in base64url")
_STATUS_CHANGE = {
    "type": "object", "required": ["status"], "additionalProperties": False, "properties": {
        "status": {"type": "string", "enum": list(SETTABLE)},
        "ignore": {"type": "object", "additionalProperties": False, "description": "with ignored only; {} is forever",
                   "properties": {"count": {"type": "integer", "minimum": 1}, "until": TIME}},
        "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON,
                   "description": "why, in the requester's words: kept in the group's history"}}}

ROUTES: tuple[Route, ...] = (
    _route("/", DashboardView, get("The live dashboard (with a token set, the browser asks for it: basic auth)",
                                   media="text/html")),
    _route("/static/{name}", StaticView, get(
        "The dashboard's script and style", [param("name", {"type": "string", "enum": sorted(FILES)}, "path")],
        media="text/plain", errors=("404",))),
    _route("/api/v1/logs/errors", ErrorsView, get(
        "Recent errors, newest first", [*_ERROR_FILTERS, param("service", TEXT), *_TRACE_FILTERS])),
    _route("/api/v1/logs/errors/{service}", ServiceErrorsView, get(
        "Recent errors of one service", [param("service", TEXT, "path"), *_ERROR_FILTERS, *_TRACE_FILTERS],
        errors=("400", "404"))),
    _route("/api/v1/logs/stats", StatsView, get("Totals and recent error figures")),
    _route("/api/v1/logs/services", ServicesView, get("Every service seen")),
    _route("/api/v1/logs/groups", GroupListView, get(
        "Error groups with their statuses, sparklines and counts by status", [
            param("status", {"type": "string", "enum": list(SHOWN)}), param("service", TEXT), param("q", TEXT),
            param("sort", {"type": "string", "enum": list(SORTS)}), param("limit", LIMIT),
            param("after", {"type": "string", "maxLength": MAX_CURSOR}, doc="the next of the page before"),
            param("release", TEXT, doc="groups seen in this release (of the latest 20 each keeps)"),
            param("environment", TEXT, doc="groups seen in this environment")])),
    _route("/api/v1/logs/groups/{id}", GroupView, {
        **get("One error group: counts by hour and day, status history, latest events", [_GROUP_ID],
              errors=("404",)),
        **patch("Change an error group's status (through Kafka, applied by the worker that owns the group)",
                [_GROUP_ID], _STATUS_CHANGE, answers={"200": "Applied: the group as it is now",
                                                      "202": "Pending: the command, which may still be applied",
                                                      "415": "Not Content-Type: application/json",
                                                      "503": "The producer refused the command: nothing changed"})}),
    _route("/api/v1/logs/releases", ReleasesView, get(
        "A service's releases, newest first: first and last seen, error events, new and regressed groups", [
            {**param("service", TEXT, doc="the service (required)"), "required": True},
            param("limit", {"type": "integer", "minimum": 1, "maximum": RELEASES_LIMIT}),
            param("after", {"type": "string", "maxLength": RELEASES_CURSOR}, doc="the next of the page before")])),
    _route("/api/v1/logs/series", SeriesView, get("Counts per service and level in buckets of whole minutes", [
        param("minutes", {"type": "integer", "minimum": 1, "maximum": 1440}),
        param("step", {"type": "integer", "minimum": 60, "maximum": 3600, "multipleOf": 60}),
        param("top", {"type": "integer", "minimum": 1, "maximum": 50}), param("service", TEXT)])),
    _route("/api/v1/logs/stream", StreamView, get(
        "Server-Sent Events of new errors (event: error), the feed's state (status) and what a slow client missed "
        "(skipped); 503 when every place is taken or the worker stops", _LIVE_FILTERS, media="text/event-stream",
        errors=("400", "503"))),
    _route("/api/v1/logs/tail", TailView, get(
        "Server-Sent Events of every new record, parsed and redacted (event: record), the feed's state (status) "
        "and what a slow client missed (skipped: {\"skipped\": n}); the worker reads the logs topic only while "
        "anyone follows; 503 when every place is taken or the worker stops", _LIVE_FILTERS, media="text/event-stream",
        errors=("400", "503"))),
    _route("/api/v1/alerts", AlertsView, get("Published alerts, newest first, and the incidents open now", [
        param("status", {"type": "string", "enum": ["firing", "resolved"]}), param("rule", TEXT),
        param("service", TEXT), param("limit", LIMIT)])),
    _route("/api/v1/health", HealthView, get(
        "Readiness: consuming", errors=(), public=True, answers={"503": "starting or recovering"})),
    _route("/metrics", MetricsView, get("Prometheus metrics", media="text/plain")),
    _route("/api/v1/openapi.json", OpenApiView, get("This document")),
    _route("/api/v1/internal/partial/{kind}", PartialView, get(
        "One worker's partial answer, for its peers' fan-out",
        [param("kind", {"type": "string", "enum": sorted(PARTIALS)}, "path")], errors=("400", "404"))),
    _route(grafana.ROOT, grafana.GrafanaRootView, _CONNECTION_TEST),
    _route(grafana.ROOT + "/", grafana.GrafanaSlashView, _CONNECTION_TEST),
    Route(grafana.ROOT + "/{route}", grafana.GrafanaRouteView, {
        f"{grafana.ROOT}/{name}": post(f"Grafana JSON datasource: {_GRAFANA_SUMMARIES[name]}")
        for name in grafana.ROUTES}),
)


def add_routes(app: faust.App) -> None:
    """Serve every route of :data:`ROUTES` from ``app``'s web server."""
    for route in ROUTES:
        app.page(route.path)(route.view)


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3 document of every route."""
    return document({path: item for route in ROUTES for path, item in route.documented.items()})
