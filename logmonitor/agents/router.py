"""The router: raw ``application-logs`` records in; errors, dead letters and table updates out."""

from __future__ import annotations

import base64
import time
from typing import Any

import orjson

from logmonitor.aggregation import Changes
from logmonitor.app import app
from logmonitor.fingerprint import fingerprint, group_title
from logmonitor.metrics import ERRORS_FORWARDED, INVALID_RECORDS, RECORDS_ROUTED
from logmonitor.records import ERROR_LEVELS, InvalidRecord, iso_timestamp, parse_record
from logmonitor.tables.acting_event import acting_for
from logmonitor.topics import dlq_topic, errors_topic, logs_topic

__all__ = ["dead_letter", "route", "route_batch"]


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


BATCH_SIZE = 2000
BATCH_WAIT = 0.02  # seconds a partly filled batch waits for more records


async def _route_one(event: Any, changes: Changes) -> None:
    message = event.message
    offset = message.offset
    try:
        record = parse_record(event.value, fallback_id=f"{message.topic}-{message.partition}-{offset}")
    except InvalidRecord as invalid:
        if not changes.invalid_applied(offset):
            await dlq_topic.send(
                key=event.key, value=dead_letter(event.value, invalid.reason, message.topic, message.partition, offset)
            )
        changes.apply_invalid(offset)
        INVALID_RECORDS.labels(invalid.reason.split(":", 1)[0]).inc()
        return
    if record["level"] in ERROR_LEVELS:
        record["fingerprint"] = fingerprint(record)
        record["title"] = group_title(record)
        if not changes.already_applied(record["service"], offset):
            await errors_topic.send(key=record["service"].encode(), value=orjson.dumps(record))
            ERRORS_FORWARDED.inc()
    changes.apply_record(record, offset)
    RECORDS_ROUTED.labels(record["service"], record["level"]).inc()


async def route_batch(events: list[Any]) -> None:
    """Route a batch: per source partition, in offset order; each changed cell is written once."""
    by_partition: dict[int, list[Any]] = {}
    for event in events:
        by_partition.setdefault(event.message.partition, []).append(event)
    for partition, share in by_partition.items():
        changes = Changes(partition)
        for event in share:
            with acting_for(event):
                await _route_one(event, changes)
        with acting_for(share[-1]):
            changes.write()


@app.agent(logs_topic, concurrency=1)
async def route(stream: Any) -> None:
    """Parse every record; forward errors, dead-letter invalid ones, aggregate the rest.

    Concurrency stays 1: more loses in-flight records on a crash (faust #606). Records come
    in batches (``take_events``) so each table cell is written once per batch, not per record.
    """
    async for events in stream.take_events(BATCH_SIZE, within=BATCH_WAIT):
        await route_batch(list(events))
