"""The route table: what the web server serves is what the OpenAPI document lists."""

from __future__ import annotations

import re

from logmonitor.server.app import LogMonitorApp
from logmonitor.web.grafana import ROUTES as GRAFANA_ROUTES
from logmonitor.web.routes import ROUTES, openapi_document


def served_paths(app: LogMonitorApp) -> set[str]:
    """The paths the app's web server routes (Faust's web keeps them in aiohttp's router)."""
    return {resource.canonical for resource in app.web.web_app.router.resources()}


def as_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")


def test_the_app_serves_exactly_the_route_table(app: LogMonitorApp) -> None:
    app.web.init_server()  # faust adds the views to aiohttp's router when the server is made, not when declared
    assert served_paths(app) == {route.path for route in ROUTES}


def test_every_route_is_documented_and_every_documented_path_is_a_route() -> None:
    documented = set(openapi_document()["paths"])
    for route in ROUTES:
        assert route.documented, route.path
        for path in route.documented:
            assert as_pattern(route.path).match(path), (route.path, path)
    routed = [as_pattern(route.path) for route in ROUTES]
    assert all(any(pattern.match(path) for pattern in routed) for path in documented)
    assert {f"/api/v1/grafana/{name}" for name in GRAFANA_ROUTES} <= documented


def test_every_operation_has_a_summary_and_answers() -> None:
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            assert operation["summary"] and operation["responses"], (path, method)
            assert "200" in operation["responses"], (path, method)


def test_the_context_parameters_of_issue_28_are_documented() -> None:
    paths = openapi_document()["paths"]

    def names(path: str) -> dict[str, bool]:
        return {param["name"]: param["required"] for param in paths[path]["get"]["parameters"]}

    assert {"trace_id": False, "request_id": False}.items() <= names("/api/v1/logs/errors").items()
    assert {"release": False, "environment": False}.items() <= names("/api/v1/logs/groups").items()
    assert names("/api/v1/logs/releases") == {"service": True, "limit": False, "after": False}
