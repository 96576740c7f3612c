"""The live stream sends what it serialised, never a value of the errors topic verbatim (issue 26 item 9).

Anyone who may write to the errors topic writes its values. Against a real worker: values with
line breaks that would forge Server-Sent Event fields, and values that are not JSON, read by
streams with and without ``?service=``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import orjson

from tests.fixtures.sse import events_until, status
from tests.fixtures.traffic import produce
from tests.fixtures.worker import WorkerProcess

SERVICE = "sse-hostile"

HOSTILE = [
    # not JSON at all, shaped as the rest of an event and a forged one
    b'{"service": "sse-hostile"}\n\nevent: error\ndata: {"forged": "not json"}',
    # JSON spread over lines: sent verbatim, its lines after the first were fields of their own
    b'{\n"service": "sse-hostile",\n"level": "ERROR",\nevent: status\n"message": "multi-line"}',
    b'{\r\n"service": "sse-hostile", "level": "ERROR",\r\n"message": "multi-line\\n\\nevent: status\\ndata: live"}',
    b"\xff\xfe not even UTF-8",
    b'["an", "array"]',
]


async def test_hostile_values_are_sent_serialised_on_one_line_or_not_at_all(module_worker: WorkerProcess) -> None:
    errors_topic, bootstrap = module_worker.env["LOGMONITOR_TOPIC_ERRORS"], module_worker.env["KAFKA_BOOTSTRAP_SERVERS"]
    last = {"id": uuid.uuid4().hex, "service": SERVICE, "level": "ERROR", "message": "the last one"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        url = module_worker.url + "/api/v1/logs/stream"
        async with session.get(url) as everything, session.get(url, params={"service": SERVICE}) as filtered:
            for stream in (everything, filtered):
                await events_until(stream, status("live"), 30)
            await produce(bootstrap, errors_topic, [(SERVICE.encode(), value) for value in HOSTILE]
                          + [(SERVICE.encode(), orjson.dumps(last))])
            seen = await asyncio.gather(*(events_until(stream, lambda e: "the last one" in e[1], 60)
                                          for stream in (everything, filtered)))
    for events in seen:
        assert [name for name, _ in events] == ["error", "error"], events
        sent: list[Any] = [orjson.loads(data) for _, data in events]
        assert sent[0] == {"service": SERVICE, "level": "ERROR",
                           "message": "multi-line\n\nevent: status\ndata: live"}, "parsed, and written again"
        assert sent[1] == last
    health = module_worker.get_json("/api/v1/health")
    assert health["status"] == "ok", health
