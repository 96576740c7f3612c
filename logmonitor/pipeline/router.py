"""The router: raw ``application-logs`` records in; errors, dead letters and table updates out."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from aiokafka import ConsumerRecord
from faust import App, Event

from logmonitor import compact_json
from logmonitor.engine.batch_consumer import Batch
from logmonitor.engine.current_event import writing_as_handler_of
from logmonitor.handler.redaction import REDACTED_HEADER, REDACTION_RULES, Redactor
from logmonitor.ingest.decoded import Rejected
from logmonitor.ingest.kafka_batches import records_of
from logmonitor.levels import ERROR_LEVELS
from logmonitor.metrics import ERRORS_FORWARDED, INVALID_RECORDS, RECORDS_ROUTED
from logmonitor.pipeline.aggregation import Bounds, Changes
from logmonitor.pipeline.dead_letter import dead_letter
from logmonitor.pipeline.fingerprint import fingerprint_candidates, group_title
from logmonitor.pipeline.records import InvalidRecord, parse_record
from logmonitor.pipeline.service_labels import ServiceLabels
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.group_cap import OVERFLOW_TITLE
from logmonitor.pipeline.tables.service_registry import public_name

__all__ = ["Router"]


Outgoing = list[tuple[str, bytes | None, bytes]]  # (topic, key, value)
REDACTED = (REDACTED_HEADER, REDACTION_RULES)  # the header our handler sends with the records it redacted
FOREIGN_REDACTOR = Redactor()  # for every other record (DESIGN section 6)
# Records routed between turns of the event loop: 500 (~15 ms; a fetch brings up to 5,000), or fewer when
# they are large: another producer's record is redacted in full, up to ~0.4 us a byte of hostile text.
YIELD_EVERY, YIELD_BYTES = 500, 128 * 1024


class Router:
    """The batch handler of ``application-logs``: errors forwarded, invalid records dead-lettered, the rest counted."""

    def __init__(self, app: App, tables: Tables, bounds: Bounds, service_labels: ServiceLabels, *,
                 errors_topic: str, dead_letters_topic: str) -> None:
        self._app, self._tables, self._bounds, self._labels = app, tables, bounds, service_labels
        self.errors_topic, self.dead_letters_topic = errors_topic, dead_letters_topic

    def _route_one(self, message: ConsumerRecord, value: bytes | Rejected | None, index: int | None,
                   changes: Changes, outgoing: Outgoing, routed: Counter[tuple[str, str]], now: float) -> None:
        """Route ``value``: the message's own, or the ``index``-th record of the OTLP batch it carries."""
        offset = message.offset
        try:
            if isinstance(value, Rejected):
                raise InvalidRecord(value.reason)
            record, size = parse_record(value, now=now), len(value or b"")
        except InvalidRecord as invalid:
            raw = value.raw if isinstance(value, Rejected) else value
            letter = dead_letter(raw, invalid.reason, message.topic, message.partition, offset, index)
            outgoing.append((self.dead_letters_topic, message.key, letter))
            changes.apply_invalid(offset)
            INVALID_RECORDS.labels(invalid.reason.split(":", 1)[0]).inc()
            return
        if record["id"] is None:  # the producer set none: its place in the log (formatted only here, for the few)
            place = f"{message.topic}-{message.partition}-{offset}"
            record["id"] = place if index is None else f"{place}-{index}"
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
            outgoing.append((self.errors_topic, public.encode(), compact_json.dumps(forwarded)))
        changes.apply_record(record, offset, size)
        routed[service, record["level"]] += 1

    async def __call__(self, batch: Batch) -> None:
        """Parse every record of one partition's batch; forward errors, dead-letter invalid ones, aggregate.

        Records arrive in offset order, a fetched batch at a time (``engine/batch_consumer.py``), so each
        table cell is written once per batch, not per record. Records read again after a restart
        (from the last committed offset) are forwarded and dead-lettered again even where the table
        cells already count them: a cell says what was counted, not what reached Kafka (its changelog
        write can be delivered while the forward beside it was refused, ``server/delivery.py``). Readers
        of the errors topic de-duplicate by record id, of the dead-letter topic by source offset.
        """
        changes = Changes(batch.last.partition, self._tables, self._bounds)
        outgoing, routed = Outgoing(), Counter[tuple[str, str]]()
        now = time.time()  # for the timestamp sanity window (a day ahead, 30 days back)
        count = size = 0
        for message in batch.records:
            for index, value in records_of(message.value, now):  # one, or each of an OTLP batch's (same offset)
                self._route_one(message, value, index, changes, outgoing, routed, now)
                count, size = count + 1, size + len(value.raw if isinstance(value, Rejected) else value or b"")
                if count >= YIELD_EVERY or size >= YIELD_BYTES:
                    await asyncio.sleep(0)  # web requests get in between
                    now, count, size = time.time(), 0, 0
        producer = self._app.producer
        for topic, key, value in outgoing:  # the producer itself: Faust's topic.send costs 5x more per record
            await producer.send(topic, key, value, None, None, None)  # the next commit waits for the outcome
        ERRORS_FORWARDED.inc(sum(topic == self.errors_topic for topic, _key, _value in outgoing))
        for (service, level), count in routed.items():
            RECORDS_ROUTED.labels(self._labels.label(service), level).inc(count)
        last = batch.last
        with writing_as_handler_of(Event(self._app, last.key, last.value, last.headers, last)):
            changes.write()
