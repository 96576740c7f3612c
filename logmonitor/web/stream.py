"""``GET /api/v1/logs/stream`` (Server-Sent Events of new errors) and ``/api/v1/logs/series``."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, cast

from aiohttp import web
from faust.web import Request, Response

from logmonitor.pipeline.tables.expiry import retention_cutoff
from logmonitor.read import series
from logmonitor.read.queries import merge_counts
from logmonitor.web.base import ApiView
from logmonitor.web.errors import BadParameter
from logmonitor.web.live_errors import RECONNECTING, FeedClosed, FeedFull, LiveError, Subscription
from logmonitor.web.params import query_int, query_level, text_param
from logmonitor.window import WINDOW_SECONDS

__all__ = ["SeriesView", "StreamView"]

logger = logging.getLogger(__name__)

PING_SECONDS = 15.0
LEFT_SECONDS = 1.0  # how often an idle stream looks whether its client is still there
RETRY_SECONDS = 3  # how soon a client reconnects, and retries when every place is taken


class StreamView(ApiView):
    """New errors as they happen (``event: error``, the record as JSON) and the feed's state (``event: status``)."""

    async def get(self, request: Request) -> Any:
        """Stream until the client leaves or the feed is lost; ``?service=&level=`` filter.

        The first event is the feed's state (``connecting``, ``live`` or ``reconnecting``), then
        each change; when a feed that was live is lost the stream ends after ``reconnecting``, so
        every client notices and reconnects; so does a stream open when the worker stops. A ``: ping``
        comment comes every 15 s; 503 when every place is taken or the worker is stopping.
        """
        service, level = text_param(request.query, "service"), query_level(request.query)
        try:
            async with self.context.errors_feed.subscribe() as subscription:
                return await _stream(cast(web.BaseRequest, request), subscription, service, level)
        except (FeedFull, FeedClosed) as refusal:
            error = "too_many_streams" if isinstance(refusal, FeedFull) else "stopping"
            return self.json({"error": error, "detail": str(refusal)}, status=503,
                             headers={"Retry-After": str(RETRY_SECONDS)})


async def _stream(request: web.BaseRequest, subscription: Subscription,
                  service: str | None, level: str | None) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
    })
    await response.prepare(request)  # faust's Request is aiohttp's
    loop = asyncio.get_running_loop()
    try:
        await response.write(f"retry: {RETRY_SECONDS * 1000}\n: connected\n\n".encode() + _status(subscription.state))
        pinged = loop.time()
        while True:
            try:
                item = await asyncio.wait_for(subscription.queue.get(), LEFT_SECONDS)
            except asyncio.TimeoutError:
                if request.transport is None or request.transport.is_closing():
                    break  # the client left: its place is free now, not at the next ping
                if loop.time() - pinged >= PING_SECONDS:
                    await response.write(b": ping\n\n")
                    pinged = loop.time()
                continue
            if isinstance(item, str):
                await response.write(_status(item))
                if item == RECONNECTING:
                    break
            elif _wanted(item, service, level):
                await response.write(b"event: error\ndata: " + item.data + b"\n\n")
    except ConnectionResetError:
        logger.debug("a live-feed client left")  # what clients do; not an error of ours
    return response


def _status(state: str) -> bytes:
    return f"event: status\ndata: {state}\n\n".encode()


def _wanted(error: LiveError, service: str | None, level: str | None) -> bool:
    return (service is None or error.service == service) and (level is None or error.level == level)


class SeriesView(ApiView):
    """Counts per service and level in buckets of whole minutes, zero-filled, for charts (``read/series.py``)."""

    async def get(self, request: Request) -> Response:
        """``?minutes=60&step=&top=10&service=`` → :func:`logmonitor.read.series.series_answer`; 400 out of bounds."""
        minutes = query_int(request.query, "minutes", 60, 1, series.MAX_MINUTES)
        step = query_int(request.query, "step", series.default_step(minutes), int(WINDOW_SECONDS), series.MAX_STEP)
        top = query_int(request.query, "top", series.DEFAULT_TOP, 1, series.MAX_TOP)
        now = time.time()
        try:
            span = series.series_span(minutes, step, now)
        except series.SeriesRequestError as error:
            raise BadParameter(str(error)) from None
        query = {"since": str(span.since), "until": str(span.until)}
        service = text_param(request.query, "service")
        if service:
            query["service"] = service
        counts = merge_counts(await self.gather("counts", query))
        retained_since = retention_cutoff(self.context.settings.window_retention, now)
        return self.json(series.series_answer(counts, span, top, retained_since))
