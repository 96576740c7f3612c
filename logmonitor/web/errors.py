"""The errors views answer as ``{"error": <code>, "detail": <text>}`` with a 4xx or 5xx status."""

from __future__ import annotations

from faust.web.exceptions import WebError

__all__ = ["ApiError", "BadParameter", "NotFound", "Unavailable", "UnsupportedMediaType"]


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


class UnsupportedMediaType(ApiError):
    """A body of a content type the route does not document (never ``text/plain``: pages send it anywhere)."""

    code = 415
    error = "unsupported_media_type"


class Unavailable(ApiError):
    """Something the answer needs did not answer (503): the client gets ``message`` and a request id.

    The detail it is raised with (an exception's text, a topic, a peer worker's address) goes to the
    worker's log under that id, never to the client.
    """

    code = 503
    error = "unavailable"
    message = "a part of the service did not answer; try again"
