"""The release and environment a handler puts on its records, and where it finds them.

In this order: the handler's arguments; ``LOGMONITOR_RELEASE`` / ``LOGMONITOR_ENVIRONMENT``; the
OpenTelemetry resource (``OTEL_RESOURCE_ATTRIBUTES``: ``service.version``, and
``deployment.environment.name`` or the older ``deployment.environment``), so a service already
configured for OpenTelemetry needs nothing more. Empty values count as unset.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import NamedTuple

from logmonitor.handler.otel_resource import ResourceAttributesError, parse_resource_attributes
from logmonitor.names import NAME_LIMIT, OTEL_ENVIRONMENT_ATTRIBUTES, OTEL_RELEASE_ATTRIBUTES, usable_name

__all__ = ["Deployment", "deployment_of"]

class Deployment(NamedTuple):
    """What a handler's records say about where they come from; None for unknown."""

    release: str | None
    environment: str | None


def deployment_of(release: str | None, environment: str | None, env: Mapping[str, str]) -> Deployment:
    """The release and environment from the arguments, else the environment variables ``env``.

    Raises:
        ValueError: an argument or ``LOGMONITOR_*`` variable is not a usable name (longer than
            ``NAME_LIMIT`` characters, or blank where an argument was given), as the router would refuse it.
    """
    found = Deployment(
        _chosen(release, "release", env.get("LOGMONITOR_RELEASE"), "LOGMONITOR_RELEASE"),
        _chosen(environment, "environment", env.get("LOGMONITOR_ENVIRONMENT"), "LOGMONITOR_ENVIRONMENT"))
    if found.release is not None and found.environment is not None:
        return found
    resource = _resource(env.get("OTEL_RESOURCE_ATTRIBUTES", ""))
    return Deployment(found.release or _first_name(resource, OTEL_RELEASE_ATTRIBUTES),
                      found.environment or _first_name(resource, OTEL_ENVIRONMENT_ATTRIBUTES))


def _first_name(resource: dict[str, str], keys: tuple[str, ...]) -> str | None:
    """The first of the attributes ``keys`` that is a usable name (the router would refuse the others)."""
    return next(filter(None, map(usable_name, map(resource.get, keys))), None)


def _chosen(argument: str | None, name: str, variable: str | None, variable_name: str) -> str | None:
    """The argument if one was given, else the variable's value if it is set and not empty."""
    if argument is None and not variable:
        return None
    value, what = (argument, name) if argument is not None else (variable, variable_name)
    if usable_name(value) is None:
        raise ValueError(f"{what}={str(value)[:40]!r}: it must be a non-blank string of at most {NAME_LIMIT} "
                         "characters")
    return value


def _resource(text: str) -> dict[str, str]:
    """The OpenTelemetry resource attributes, or none (said once on stderr) when the variable cannot be read."""
    if not text:
        return {}
    try:
        return parse_resource_attributes(text)
    except ResourceAttributesError as error:
        print(f"logmonitor handler: OTEL_RESOURCE_ATTRIBUTES is not used: {error}", file=sys.stderr)
        return {}
