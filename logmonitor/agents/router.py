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
from logmonitor.dead_letter import dead_letter
from logmonitor.engine.batch_consumer import Batch
from logmonitor.engine.current_event import acting_for
from logmonitor.fingerprint import fingerprint_candidates, group_title
from logmonitor.handler.redaction import REDACTED_HEADER, REDACTION_RULES, Redactor
from logmonitor.levels import ERROR_LEVELS
from logmonitor.metrics import ERRORS_FORWARDED, INVALID_RECORDS, RECORDS_ROUTED
from logmonitor.records import InvalidRecord, parse_record
from logmonitor.service_labels import service_labels
from logmonitor.tables.group_cap import OVERFLOW_TITLE
from logmonitor.tables.service_registry import public_name
from logmonitor.topics import dlq_topic, errors_topic, logs_topic

__all__ = ["route"]


Outgoing = list[tuple[str, bytes | None, bytes]]  # (topic, key, value)
ERRORS, DEAD_LETTERS = errors_topic.get_topic_name(), dlq_topic.get_topic_name()
REDACTED = (REDACTED_HEADER, REDACTION_RULES)  # the header our handler sends with the records it redacted
FOREIGN_REDACTOR = Redactor()  # for every other record (DESIGN section 6)
# Records routed between turns of the event loop: 500 (~15 ms; a fetch brings up to 5,000), or fewer when
# they are large: another producer's record is redacted in full, up to ~0.4 us a byte of hostile text.
YIELD_EVERY, YIELD_BYTES = 500, 128 * 1024


def _route_one(message: ConsumerRecord, changes: Changes, outgoing: Outgoing, routed: Counter[tuple[str, str]],
               now: float) -> None:
    offset = message.offset
    try:
        record = parse_record(message.value, now=now)
    except InvalidRecord as invalid:
        letter = dead_letter(message.value, invalid.reason, message.topic, message.partition, offset)
        outgoing.append((DEAD_LETTERS, message.key, letter))
        changes.apply_invalid(offset)
        INVALID_RECORDS.labels(invalid.reason.split(":", 1)[0]).inc()
        return
    if record["id"] is None:  # the producer set none: its place in the log (formatted only here, for the few)
        record["id"] = f"{message.topic}-{message.partition}-{offset}"
    if REDACTED not in message.headers:  # another producer's record, or one redacted by other rules
        FOREIGN_REDACTOR.record(record)
    service = changes.counted_as(record["service"], offset)
    if service != record["service"]:  # beyond the cap: the bucket's record, naming its service in extra
        record["extra"] = {**record["extra"], "overflowed_service": record["service"]}
        record["service"] = service
    if record["level"] in ERROR_LEVELS:
        own = changes.group_of(service, fingerprint_candidates(record))
        record["fingerprint"] = changes.grouped_as(service, own, offset)
        if record["fingerprint"] == own:
            record["title"] = group_title(record)
        else:  # beyond the group cap: the overflow group's error, naming its own fingerprint in extra
            record["extra"] = {**record["extra"], "overflowed_fingerprint": own}
            record["title"] = OVERFLOW_TITLE
        public = public_name(service)
        forwarded = record if public == service else {**record, "service": public}
        outgoing.append((ERRORS, public.encode(), compact_json.dumps(forwarded)))
    changes.apply_record(record, offset, len(message.value))
    routed[service, record["level"]] += 1


@app.batch_handler(logs_topic)
async def route(batch: Batch) -> None:
    """Parse every record of one partition's batch; forward errors, dead-letter invalid ones, aggregate.

    Records arrive in offset order, a fetched batch at a time (``engine/batch_consumer.py``), so each
    table cell is written once per batch, not per record. Records read again after a restart
    (from the last committed offset) are forwarded and dead-lettered again even where the table
    cells already count them: a cell says what was counted, not what reached Kafka (its changelog
    write can be delivered while the forward beside it was refused, ``delivery.py``). Readers of
    the errors topic de-duplicate by record id, of the dead-letter topic by source offset.
    """
    messages = batch.records
    changes, outgoing, routed = Changes(batch.last.partition), Outgoing(), Counter[tuple[str, str]]()
    now = time.time()  # for the timestamp sanity window (a day ahead, 30 days back)
    count = size = 0
    for message in messages:
        _route_one(message, changes, outgoing, routed, now)
        count, size = count + 1, size + len(message.value or b"")
        if count >= YIELD_EVERY or size >= YIELD_BYTES:
            await asyncio.sleep(0)  # web requests get in between
            now, count, size = time.time(), 0, 0
    for topic, key, value in outgoing:  # the producer itself: Faust's topic.send costs 5x more per record
        await app.producer.send(topic, key, value, None, None, None)  # the next commit waits for the outcome
    ERRORS_FORWARDED.inc(sum(topic == ERRORS for topic, _key, _value in outgoing))
    for (service, level), count in routed.items():
        RECORDS_ROUTED.labels(service_labels.label(service), level).inc(count)
    last = batch.last
    with acting_for(Event(app, last.key, last.value, last.headers, last)):
        changes.write()
