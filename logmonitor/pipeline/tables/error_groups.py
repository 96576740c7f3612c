"""Error groups per (service, fingerprint): Sentry-style issues."""

from __future__ import annotations

from typing import Any

import faust

from logmonitor.pipeline.tables.cell_table import cell_table

__all__ = ["define", "group_key"]

_SEP = "\x1f"


def define(app: faust.App, partitions: int) -> Any:
    """The error-groups table of ``app``: one cell per (service, fingerprint)."""
    return cell_table(app, partitions, "error-groups",
                      "count, first/last seen, level, logger, exception type, title, last example id.")


def group_key(service: str, fingerprint: str) -> str:
    """The key of one error group."""
    return f"{service}{_SEP}{fingerprint}"
