"""Names a record carries besides its text (service, release, environment): one bound for every side.

The handler imports this module too, so it imports nothing (the handler is installed without the
server's dependencies).
"""

from __future__ import annotations

__all__ = ["NAME_LIMIT", "OTEL_ENVIRONMENT_ATTRIBUTES", "OTEL_RELEASE_ATTRIBUTES", "usable_name"]

NAME_LIMIT = 256
"""The most characters of a name; the router dead-letters a record with a longer one (``records.py``)."""
OTEL_RELEASE_ATTRIBUTES = ("service.version",)
"""The OpenTelemetry resource attribute that names the release."""
OTEL_ENVIRONMENT_ATTRIBUTES = ("deployment.environment.name", "deployment.environment")
"""The OpenTelemetry resource attributes that name the environment: the current one, then the one before 1.27."""


def usable_name(value: object) -> str | None:
    """``value`` if the router takes it as a name: a string, not blank, at most ``NAME_LIMIT`` characters."""
    if isinstance(value, str) and 0 < len(value) <= NAME_LIMIT and not value.isspace():
        return value
    return None
