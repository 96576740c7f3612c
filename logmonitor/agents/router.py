"""The router: raw ``application-logs`` records in; errors, dead letters and table updates out."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from aiokafka import ConsumerRecord
from faust import Event

from logmonitor import compact_json
from logmonitor.aggregation import Changes
from logmonitor.app import app
from logmonitor.batch_consumer import Batch
from logmonitor.dead_letter import dead_letter
from logmonitor.fingerprint import fingerprint, group_title
from logmonitor.handler.redaction import REDACTED_HEADER, REDACTION_RULES, Redactor
from logmonitor.metrics import ERRORS_FORWARDED, INVALID_RECORDS, RECORDS_ROUTED
from logmonitor.records import ERROR_LEVELS, InvalidRecord, parse_record
from logmonitor.tables.acting_event import acting_for
from logmonitor.topics import dlq_topic, errors_topic, logs_topic

__all__ = ["route"]


Outgoing = list[tuple[str, bytes | None, bytes]]  # (topic, key, value)
ERRORS, DEAD_LETTERS = errors_topic.get_topic_name(), dlq_topic.get_topic_name()
REDACTED = (REDACTED_HEADER, REDACTION_RULES)  # the header our handler sends with the records it redacted
FOREIGN_REDACTOR = Redactor()  # for every other record (DESIGN section 6)
YIELD_EVERY = 500  # records routed between turns of the event loop (~15 ms; a fetch brings up to 5,000)


def _route_one(message: ConsumerRecord, changes: Changes, outgoing: Outgoing, routed: Counter[tuple[str, str]],
               now: float) -> None:
    offset = message.offset
    try:
        record = parse_record(message.value, now=now)
    except InvalidRecord as invalid:
        if not changes.invalid_applied(offset):
            letter = dead_letter(message.value, invalid.reason, message.topic, message.partition, offset)
            outgoing.append((DEAD_LETTERS, message.key, letter))
        changes.apply_invalid(offset)
        INVALID_RECORDS.labels(invalid.reason.split(":", 1)[0]).inc()
        return
    if record["id"] is None:  # the producer set none: its place in the log (formatted only here, for the few)
        record["id"] = f"{message.topic}-{message.partition}-{offset}"
    if REDACTED not in message.headers:  # another producer's record, or one redacted by other rules
        FOREIGN_REDACTOR.record(record)
    if record["level"] in ERROR_LEVELS:
        record["fingerprint"] = fingerprint(record)
        record["title"] = group_title(record)
        if not changes.already_applied(record["service"], offset):
            outgoing.append((ERRORS, record["service"].encode(), compact_json.dumps(record)))
    changes.apply_record(record, offset, len(message.value))
    routed[record["service"], record["level"]] += 1


@app.batch_handler(logs_topic)
async def route(batch: Batch) -> None:
    """Parse every record of one partition's batch; forward errors, dead-letter invalid ones, aggregate.

    Records arrive in offset order, a fetched batch at a time (``batch_consumer.py``), so each
    table cell is written once per batch, not per record.
    """
    messages = batch.records
    changes, outgoing, routed = Changes(batch.last.partition), Outgoing(), Counter[tuple[str, str]]()
    for start in range(0, len(messages), YIELD_EVERY):
        now = time.time()  # for the timestamp sanity window (a day ahead, 30 days back)
        for message in messages[start:start + YIELD_EVERY]:
            _route_one(message, changes, outgoing, routed, now)
        await asyncio.sleep(0)  # web requests get in between
    for topic, key, value in outgoing:  # the producer itself: Faust's topic.send costs 5x more per record
        await app.producer.send(topic, key, value, None, None, None)  # the next commit waits for delivery
    ERRORS_FORWARDED.inc(sum(topic == ERRORS for topic, _key, _value in outgoing))
    for (service, level), count in routed.items():
        RECORDS_ROUTED.labels(service, level).inc(count)
    last = batch.last
    with acting_for(Event(app, last.key, last.value, last.headers, last)):
        changes.write()
