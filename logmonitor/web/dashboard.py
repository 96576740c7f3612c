"""The dashboard at ``/``: one static page, its script and its style, shipped in the package."""

from __future__ import annotations

from importlib.resources import files

from faust.web import Request, Response

from logmonitor.web.base import ApiView
from logmonitor.web.errors import NotFound

__all__ = ["FILES", "DashboardView", "StaticView"]

_STATIC = files("logmonitor.web") / "static"
FILES = {name: (_STATIC / name).read_bytes() for name in (
    "index.html", "dashboard.js", "dashboard.css", "chart.js", "chart.css", "groups.js", "group_detail.js",
    "groups.css", "releases.js", "trace.js")}
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def _asset(name: str) -> tuple[bytes, str]:
    body = FILES.get(name)
    if body is None:
        raise NotFound(f"no static file {name!r}")
    return body, _TYPES["." + name.rsplit(".", 1)[-1]]


class DashboardView(ApiView):
    """The live dashboard page."""

    async def get(self, request: Request) -> Response:
        """The page; its data comes from the JSON API and the SSE stream."""
        body, content_type = _asset("index.html")
        return self.bytes(body, content_type=content_type,
                          headers={"Cache-Control": "no-cache"})


class StaticView(ApiView):
    """The dashboard's script and style (same origin, as the CSP requires)."""

    async def get(self, request: Request, name: str) -> Response:
        """One of the packaged files; 404 for anything else."""
        body, content_type = _asset(name)
        return self.bytes(body, content_type=content_type,
                          headers={"Cache-Control": "no-cache"})
