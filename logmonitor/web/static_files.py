"""The dashboard's page and files as the package ships them, and the paths they are served at (no faust here:
the middleware, which the ingest server shares, needs the paths)."""

from __future__ import annotations

from importlib.resources import files

__all__ = ["FILES", "PATHS"]

_STATIC = files("logmonitor.web") / "static"
FILES = {name: (_STATIC / name).read_bytes() for name in (
    "index.html", "dashboard.js", "dashboard.css", "chart.js", "chart.css", "groups.js", "groups.css")}
PATHS = frozenset({"/", *(f"/static/{name}" for name in FILES)})
"""The page and its files: code, no data, so they need no token (the page asks for it when the API does)."""
