"""``GET /api/v1/openapi.json``: the OpenAPI 3 description of the HTTP interface."""

from __future__ import annotations

from typing import Any

from faust.web import Request, Response

from logmonitor import __version__
from logmonitor.app import app
from logmonitor.levels import LEVELS
from logmonitor.web.base import ApiView

__all__ = ["OPENAPI", "OpenApiView"]


def _param(name: str, schema: dict[str, Any], where: str = "query", doc: str = "") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema, "description": doc}


_TIME = {"type": "string", "description": "ISO 8601 (Z or offset) or epoch seconds/milliseconds"}
_TEXT = {"type": "string", "maxLength": 256}
_LEVEL = {"type": "string", "enum": [*LEVELS, *(level.lower() for level in LEVELS)]}
_OBJECT = {"type": "object", "additionalProperties": True}
_ERROR = {"description": "Bad parameter or unknown thing",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _get(summary: str, params: list[dict[str, Any]], *, media: str = "application/json",
         errors: tuple[str, ...] = ("400",)) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": summary, "content": {media: {"schema": _OBJECT}}}}
    responses.update({code: _ERROR for code in errors})
    return {"get": {"summary": summary, "parameters": params, "responses": responses}}


def _grafana(route: str, summary: str) -> tuple[str, dict[str, Any]]:
    body = {"required": False, "content": {"application/json": {"schema": _OBJECT}}}
    answer = {"description": summary, "content": {"application/json": {"schema": {}}}}
    return f"/api/v1/grafana/{route}", {"post": {"summary": f"Grafana JSON datasource: {summary}",
                                                  "requestBody": body, "responses": {"200": answer, "400": _ERROR}}}


_GRAFANA = dict(_grafana(route, summary) for route, summary in (
    ("search", "target names (SimpleJSON)"), ("metrics", "target names with payload options (simPod)"),
    ("metric-payload-options", "values for a payload option"), ("query", "time series, tables, annotation frames"),
    ("annotations", "CRITICAL errors, new error groups and alerts (SimpleJSON)"), ("tag-keys", "ad-hoc filter keys"),
    ("tag-values", "ad-hoc filter values"), ("variable", "template variable values"),
))

_ERROR_FILTERS = [
    _param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
    _param("level", _LEVEL), _param("since", _TIME), _param("until", _TIME), _param("q", _TEXT),
]

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "logmonitor", "version": __version__,
             "description": "Real-time log and error monitoring, served from Faust table state."},
    "components": {
        "schemas": {"Error": {"type": "object", "required": ["error", "detail"],
                              "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}}},
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}, "basic": {"type": "http", "scheme": "basic"},
        },
    },
    "security": [{"bearer": []}, {"basic": []}],
    "paths": {
        "/api/v1/logs/errors": _get("Recent errors, newest first", [*_ERROR_FILTERS, _param("service", _TEXT)]),
        "/api/v1/logs/errors/{service}": _get(
            "Recent errors of one service", [_param("service", _TEXT, "path"), *_ERROR_FILTERS],
            errors=("400", "404")),
        "/api/v1/logs/stats": _get("Totals and recent error figures", []),
        "/api/v1/logs/services": _get("Every service seen", []),
        "/api/v1/logs/groups": _get("Error groups, most recent first", [
            _param("service", _TEXT), _param("limit", {"type": "integer", "minimum": 1, "maximum": 1000})]),
        "/api/v1/logs/series": _get("Counts per service and level in buckets of whole minutes (at most 360)", [
            _param("minutes", {"type": "integer", "minimum": 1, "maximum": 1440}),
            _param("step", {"type": "integer", "minimum": 60, "maximum": 3600, "multipleOf": 60}),
            _param("top", {"type": "integer", "minimum": 1, "maximum": 50}), _param("service", _TEXT)]),
        "/api/v1/logs/stream": _get("Server-Sent Events of new errors and of the feed's state (503 when full)",
                                    [_param("service", _TEXT), _param("level", _LEVEL)], media="text/event-stream"),
        "/api/v1/alerts": _get("Published alerts, newest first, and the incidents open now", [
            _param("status", {"type": "string", "enum": ["firing", "resolved"]}), _param("rule", _TEXT),
            _param("service", _TEXT), _param("limit", {"type": "integer", "minimum": 1, "maximum": 1000})]),
        "/api/v1/health": {"get": {"summary": "Readiness", "security": [], "responses": {
            "200": {"description": "consuming", "content": {"application/json": {"schema": _OBJECT}}},
            "503": {"description": "starting or recovering",
                    "content": {"application/json": {"schema": _OBJECT}}}}}},
        "/metrics": _get("Prometheus metrics", [], media="text/plain"),
        "/api/v1/openapi.json": _get("This document", []),
        "/": _get("The live dashboard", [], media="text/html"),
        "/api/v1/grafana": _get("Grafana's connection test", []),
        **_GRAFANA,
    },
}


@app.page("/api/v1/openapi.json")
class OpenApiView(ApiView):
    """The OpenAPI document."""

    async def get(self, request: Request) -> Response:
        """The OpenAPI 3 document of the HTTP interface."""
        return self.json(OPENAPI)
