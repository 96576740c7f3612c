"""OpenTelemetry's ``OTEL_RESOURCE_ATTRIBUTES``, read as its specification says.

The value is ``key1=value1,key2=value2`` (W3C Baggage without properties): keys and values are
trimmed of surrounding white space, values are percent-encoded UTF-8, every value is a string.
A value that cannot be read is discarded whole, as the specification asks (no attribute of it is
used), and the caller says so. The text is bounded before it is split.
"""

from __future__ import annotations

from urllib.parse import unquote

__all__ = ["MAX_RESOURCE_TEXT", "ResourceAttributesError", "parse_resource_attributes"]

MAX_RESOURCE_TEXT = 16 * 1024
"""The longest value read; a longer one is discarded (environment variables this long are a mistake)."""


class ResourceAttributesError(ValueError):
    """The variable's value is not a list of ``key=value`` pairs; the message says why."""


def parse_resource_attributes(text: str) -> dict[str, str]:
    """The attributes ``text`` holds; a later pair with the same key wins.

    Raises:
        ResourceAttributesError: ``text`` is longer than ``MAX_RESOURCE_TEXT``, a member has no
            ``=`` or an empty key, or a value's percent-encoding is not UTF-8.
    """
    if len(text) > MAX_RESOURCE_TEXT:
        raise ResourceAttributesError(f"longer than {MAX_RESOURCE_TEXT} characters")
    attributes: dict[str, str] = {}
    for member in text.split(","):
        if not member.strip():  # an empty member, as a trailing comma leaves
            continue
        key, equals, value = member.partition("=")
        if not equals or not key.strip():
            raise ResourceAttributesError(f"{member.strip()[:40]!r} is not key=value")
        try:
            attributes[key.strip()] = unquote(value.strip(), errors="strict")
        except UnicodeDecodeError:
            raise ResourceAttributesError(f"the value of {key.strip()[:40]!r} is not percent-encoded UTF-8") from None
    return attributes
