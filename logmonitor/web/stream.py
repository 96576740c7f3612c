"""``GET /api/v1/logs/stream`` (Server-Sent Events of new errors) and ``/api/v1/logs/series``."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import orjson
from aiohttp import web
from faust.web import Request, Response

from logmonitor.app import app
from logmonitor.queries import merge_counts
from logmonitor.records import LEVELS
from logmonitor.tables.log_counts import WINDOW_SECONDS
from logmonitor.web.base import ApiView, query_int, query_level, text_param
from logmonitor.web.cluster import gather
from logmonitor.web.live_errors import live_errors

__all__ = ["SeriesView", "StreamView"]

PING_SECONDS = 15.0


@app.page("/api/v1/logs/stream")
class StreamView(ApiView):
    """New errors as they happen: ``event: error`` with the record as JSON data."""

    async def get(self, request: Request) -> Any:
        """Stream until the client leaves; ``?service=&level=`` filter; a ``: ping`` comment every 15 s."""
        service, level = text_param(request.query, "service"), query_level(request.query)
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
        })
        await response.prepare(cast(web.BaseRequest, request))  # faust's Request is aiohttp's
        await response.write(b"retry: 3000\n: connected\n\n")
        async with live_errors.subscribe() as queue:
            while True:
                try:
                    value = await asyncio.wait_for(queue.get(), PING_SECONDS)
                except asyncio.TimeoutError:
                    await response.write(b": ping\n\n")
                    continue
                if _wanted(value, service, level):
                    await response.write(b"event: error\ndata: " + value + b"\n\n")


def _wanted(value: bytes, service: str | None, level: str | None) -> bool:
    if service is None and level is None:
        return True
    record = orjson.loads(value)
    return (service is None or record.get("service") == service) and (level is None or record.get("level") == level)


@app.page("/api/v1/logs/series")
class SeriesView(ApiView):
    """Per-minute counts per service and level, zero-filled, for charts."""

    async def get(self, request: Request) -> Response:
        """``?minutes=60&service=`` → ``{"bucket_seconds", "series": {service: {level: [[epoch_ms, n], ...]}}}``."""
        minutes = query_int(request.query, "minutes", 60, 1, 24 * 60)
        service = text_param(request.query, "service")
        now = time.time()
        last = int(now // WINDOW_SECONDS * WINDOW_SECONDS)
        starts = [last - i * int(WINDOW_SECONDS) for i in range(minutes - 1, -1, -1)]
        query = {"since": str(starts[0]), "until": str(last + WINDOW_SECONDS)}
        if service:
            query["service"] = service
        counts = merge_counts(await gather("counts", query, request.headers))
        series = {
            name: {level: [[start * 1000, by_level.get(level, {}).get(start, 0)] for start in starts]
                   for level in LEVELS if level in by_level}
            for name, by_level in sorted(counts.items())
        }
        return self.json({"bucket_seconds": int(WINDOW_SECONDS), "series": series})
