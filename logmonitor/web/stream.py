"""Live streams (Server-Sent Events): ``/api/v1/logs/stream`` (new errors), ``/api/v1/logs/tail`` (every new
record); and ``/api/v1/logs/series``."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, ClassVar, cast

import orjson
from aiohttp import web
from faust.web import Request, Response

from logmonitor.pipeline.tables.expiry import retention_cutoff
from logmonitor.read import series
from logmonitor.read.queries import merge_counts
from logmonitor.server.context import AppContext
from logmonitor.web.base import ApiView
from logmonitor.web.errors import BadParameter
from logmonitor.web.live_feed import (
    QUEUE_RECORDS,
    RECONNECTING,
    FeedClosed,
    FeedFull,
    Item,
    LiveFeed,
    Skipped,
    Subscription,
)
from logmonitor.web.live_filter import LiveFilter
from logmonitor.web.params import query_int, text_param
from logmonitor.window import WINDOW_SECONDS

__all__ = ["SeriesView", "StreamView", "TailView"]

logger = logging.getLogger(__name__)

PING_SECONDS = 15.0
LEFT_SECONDS = 1.0  # how often an idle stream looks whether its client is still there
RETRY_SECONDS = 3  # how soon a client reconnects, and retries when every place is taken
WRITE_ITEMS = QUEUE_RECORDS + 8  # a client's whole queue (at most 4 MiB) at once: fewer turns for a busy stream


class _FeedStream(ApiView):
    """A live feed as Server-Sent Events: its records (``event: <record_event>``, one JSON object), the feed's
    state (``event: status``) and the records a slow client missed (``event: skipped``, ``{"skipped": n}``)."""

    record_event: ClassVar[bytes]

    def feed(self, context: AppContext) -> LiveFeed:
        """The feed this route streams."""
        raise NotImplementedError

    async def get(self, request: Request) -> Any:
        """Stream until the client leaves or the feed is lost; ``?service=&level=&min_level=&q=`` filter (400 if bad).

        The first event is the feed's state (``connecting``, ``live`` or ``reconnecting``), then
        each change; when a feed that was live is lost the stream ends after ``reconnecting``, so
        every client notices and reconnects; so does a stream open when the worker stops. A ``: ping``
        comment comes every 15 s; 503 when every place is taken or the worker is stopping.
        """
        wants = LiveFilter.of(request.query)
        try:
            async with self.feed(self.context).subscribe(wants) as subscription:
                return await _stream(cast(web.BaseRequest, request), subscription, self.record_event)
        except (FeedFull, FeedClosed) as refusal:
            error = "too_many_streams" if isinstance(refusal, FeedFull) else "stopping"
            return self.json({"error": error, "detail": str(refusal)}, status=503,
                             headers={"Retry-After": str(RETRY_SECONDS)})


class StreamView(_FeedStream):
    """New errors as they are routed (``event: error``, the record with its fingerprint): the errors topic."""

    record_event = b"error"

    def feed(self, context: AppContext) -> LiveFeed:
        """The feed of the errors topic."""
        return context.errors_feed


class TailView(_FeedStream):
    """Every new record as it arrives (``event: record``), parsed and redacted as the router does: the logs topic.

    The worker reads the logs topic only while anyone follows this stream.
    """

    record_event = b"record"

    def feed(self, context: AppContext) -> LiveFeed:
        """The feed of the logs topic."""
        return context.records_feed


async def _stream(request: web.BaseRequest, subscription: Subscription, record_event: bytes) -> web.StreamResponse:
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
                first = await asyncio.wait_for(subscription.get(), LEFT_SECONDS)
            except asyncio.TimeoutError:
                if request.transport is None or request.transport.is_closing():
                    break  # the client left: its place is free now, not at the next ping
                if loop.time() - pinged >= PING_SECONDS:
                    await response.write(b": ping\n\n")
                    pinged = loop.time()
                continue
            items = [first, *subscription.take(WRITE_ITEMS - 1)]
            await response.write(b"".join(_event(item, record_event) for item in items))
            if RECONNECTING in items:
                break
    except ConnectionResetError:
        logger.debug("a live-feed client left")  # what clients do; not an error of ours
    return response


def _event(item: Item, record_event: bytes) -> bytes:
    if isinstance(item, bytes):
        return b"event: " + record_event + b"\ndata: " + item + b"\n\n"
    if isinstance(item, Skipped):
        return b"event: skipped\ndata: " + orjson.dumps({"skipped": item.count}) + b"\n\n"
    return _status(item)


def _status(state: str) -> bytes:
    return f"event: status\ndata: {state}\n\n".encode()


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
