"""Error groups per (service, fingerprint): Sentry-style issues."""

from __future__ import annotations

from logmonitor.pipeline.tables.cell_table import cell_table

__all__ = ["error_groups", "group_key"]

_SEP = "\x1f"

error_groups = cell_table(
    "error-groups", "count, first/last seen, level, logger, exception type, title, last example id."
)


def group_key(service: str, fingerprint: str) -> str:
    """The key of one error group."""
    return f"{service}{_SEP}{fingerprint}"
