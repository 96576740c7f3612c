"""The router: raw ``application-logs`` records in; errors, dead letters and table updates out."""

from __future__ import annotations

import base64
import time
from typing import Any

import orjson

from logmonitor.aggregation import already_applied, apply_invalid, apply_record
from logmonitor.app import app
from logmonitor.fingerprint import fingerprint, group_title
from logmonitor.metrics import ERRORS_FORWARDED, INVALID_RECORDS, RECORDS_ROUTED
from logmonitor.records import ERROR_LEVELS, InvalidRecord, iso_timestamp, parse_record
from logmonitor.topics import dlq_topic, errors_topic, logs_topic

__all__ = ["dead_letter", "route"]


def dead_letter(raw: bytes | None, reason: str, topic: str, partition: int, offset: int) -> bytes:
    """The dead-letter value of DESIGN section 3: reason, raw text (or base64), source, time."""
    payload = raw or b""
    try:
        text, encoding = payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(payload).decode(), "base64"
    return orjson.dumps({
        "reason": reason, "raw": text, "raw_encoding": encoding,
        "source": {"topic": topic, "partition": partition, "offset": offset},
        "received_at": iso_timestamp(time.time()),
    })


async def _route_one(event: Any) -> None:
    message = event.message
    partition, offset = message.partition, message.offset
    try:
        record = parse_record(event.value, fallback_id=f"{message.topic}-{partition}-{offset}")
    except InvalidRecord as invalid:
        await dlq_topic.send(
            key=event.key, value=dead_letter(event.value, invalid.reason, message.topic, partition, offset)
        )
        apply_invalid(partition, offset)
        INVALID_RECORDS.labels(invalid.reason.split(":", 1)[0]).inc()
        return
    if record["level"] in ERROR_LEVELS:
        record["fingerprint"] = fingerprint(record)
        record["title"] = group_title(record)
        if not already_applied(record["service"], partition, offset):
            await errors_topic.send(key=record["service"].encode(), value=orjson.dumps(record))
            ERRORS_FORWARDED.inc()
    apply_record(record, partition, offset)
    RECORDS_ROUTED.labels(record["service"], record["level"]).inc()


@app.agent(logs_topic, concurrency=1)
async def route(stream: Any) -> None:
    """Parse every record; forward errors, dead-letter invalid ones, aggregate the rest.

    Concurrency stays 1: more loses in-flight records on a crash (faust #606).
    """
    async for event in stream.events():
        await _route_one(event)
