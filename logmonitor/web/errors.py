"""The errors views answer as ``{"error": <code>, "detail": <text>}`` with a 4xx or 5xx status."""

from __future__ import annotations

from faust.web.exceptions import WebError

__all__ = ["ApiError", "BadParameter", "NotFound"]


class ApiError(WebError):
    """An error answered as ``{"error": <code>, "detail": <text>}`` with a 4xx status."""

    code = 400
    error = "bad_request"


class BadParameter(ApiError):
    """A query parameter or body field has an unusable value."""

    error = "bad_parameter"


class NotFound(ApiError):
    """The addressed thing does not exist."""

    code = 404
    error = "not_found"
