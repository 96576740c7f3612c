"""Error groups per (service, fingerprint): Sentry-style issues."""

from __future__ import annotations

from logmonitor.app import app, settings

__all__ = ["error_groups", "group_key"]

error_groups = app.Table(
    "error-groups",
    default=dict,
    partitions=settings.partitions,
    help="count, first/last seen, level, logger, exception type, title, last example id.",
)


def group_key(service: str, fingerprint: str) -> str:
    """The key of one error group."""
    return f"{service}\x1f{fingerprint}"
