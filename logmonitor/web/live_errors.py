"""The live feed of new errors (``GET /api/v1/logs/stream``): the errors topic, as the router wrote it."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from logmonitor.settings import Settings
from logmonitor.web.live_feed import Decoded, LiveFeed, feed_consumer

__all__ = ["error_of", "errors_feed", "errors_in"]

logger = logging.getLogger(__name__)


def error_of(value: bytes | None) -> dict[str, Any] | None:
    """The error a value of the errors topic holds; None for a value that is not a JSON object.

    Anyone who may write to the topic writes its values: sending them verbatim would let a value with
    line breaks forge Server-Sent Event fields, so the feed sends what orjson writes of the object.
    """
    if value is None:
        return None
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def errors_in(message: Any, _now: float) -> Decoded:
    """The error one message of the errors topic holds (:data:`~logmonitor.web.live_feed.Decoded`)."""
    error = error_of(message.value)
    if error is None:
        logger.debug("live errors feed: a value of %s is not a JSON object; not sent", message.topic)
    yield message.value, error


def errors_feed(settings: Settings) -> LiveFeed:
    """The feed of the errors topic ``settings`` name, for at most ``LOGMONITOR_SSE_MAX_CLIENTS`` streams."""
    return LiveFeed("errors", settings.errors_topic, feed_consumer(settings), errors_in, settings.sse_max_clients)
