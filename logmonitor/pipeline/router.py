"""The router: raw ``application-logs`` records in; errors, dead letters, forwards and table updates out."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import ConsumerRecord
from faust import App, Event

from logmonitor import compact_json
from logmonitor.engine.batch_consumer import Batch
from logmonitor.engine.current_event import writing_as_handler_of
from logmonitor.home_partition import HomePartitions
from logmonitor.ingest.decoded import Rejected
from logmonitor.ingest.kafka_batches import may_be_batch, records_of
from logmonitor.levels import ERROR_LEVELS
from logmonitor.metrics import ERRORS_FORWARDED, INVALID_RECORDS, RECORDS_REPARTITIONED, RECORDS_ROUTED
from logmonitor.pipeline.aggregation import Bounds, Changes
from logmonitor.pipeline.dead_letter import dead_letter
from logmonitor.pipeline.fingerprint import fingerprint_candidates, group_title
from logmonitor.pipeline.native_shape import native_service
from logmonitor.pipeline.pacer import Pacer, size_of
from logmonitor.pipeline.record_ready import REDACTED, ready_record, redactor_for
from logmonitor.pipeline.records import MAX_RECORD_BYTES, InvalidRecord, parse_record
from logmonitor.pipeline.repartition import Forwards, Source, forwarded_records
from logmonitor.pipeline.service_labels import ServiceLabels
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.group_cap import OVERFLOW_TITLE
from logmonitor.pipeline.tables.service_registry import public_name

__all__ = ["Router"]


Outgoing = list[tuple[str, bytes | None, bytes | None, int | None, Any]]  # (topic, key, value, partition, headers)
NOT_FORWARDED = "not a forwarded record: the repartition topic's records carry their source in headers"


class Router:
    """The batch handler of ``application-logs`` and of its repartition topic.

    Errors are forwarded, invalid records dead-lettered, records off their service's home partition
    forwarded to the repartition topic (``pipeline/repartition.py``), the rest counted.
    """

    def __init__(self, app: App, tables: Tables, bounds: Bounds, service_labels: ServiceLabels, *,
                 errors_topic: str, dead_letters_topic: str, repartition_topic: str, partitions: int) -> None:
        self._app, self._tables, self._bounds, self._labels = app, tables, bounds, service_labels
        self.errors_topic, self.dead_letters_topic = errors_topic, dead_letters_topic
        self.repartition_topic, self._homes = repartition_topic, HomePartitions(partitions)

    def _route_one(self, message: ConsumerRecord, value: bytes | Rejected | None, index: int | None,
                   changes: Changes, outgoing: Outgoing, now: float,
                   forwards: Forwards | None, forwarded: Source | None = None) -> None:
        """Route ``value``: the message's own, or the ``index``-th record of the OTLP batch it carries.

        ``forwards``: where records off their home partition go (None: read at home, from the repartition
        topic). ``forwarded``: where such a record was read; it is counted at its position there, else at
        the message's offset.
        """
        offset = message.offset if forwarded is None else forwarded.position
        if forwards is not None and message.key is None and self._forward_unparsed(message, value, index, forwards):
            return
        try:
            if isinstance(value, Rejected):
                raise InvalidRecord(value.reason)
            record, size = parse_record(value, now=now, counted_only=True), len(value or b"")
        except InvalidRecord as invalid:
            raw = value.raw if isinstance(value, Rejected) else value
            source = forwarded or Source(message.topic, message.partition, message.offset, index)
            letter = dead_letter(raw, invalid.reason, *source, redactor=redactor_for(message.headers))
            outgoing.append((self.dead_letters_topic, message.key, letter, None, None))
            changes.apply_invalid(offset)
            INVALID_RECORDS.labels(invalid.reason.split(":", 1)[0]).inc()
            return
        service = record["service"]
        if forwards is not None and (home := self._homes[service]) != message.partition:
            forwards.add(home, message.key, value, message.headers, message.offset, index)
            return
        error = record["level"] in ERROR_LEVELS
        if error:  # only an error's text is kept (errors topic, ring, group title): it alone gets its id and redaction
            ready_record(record, message.headers,
                         forwarded or Source(message.topic, message.partition, offset, index))
        if (counted := changes.counted_as(service, offset)) != service:  # beyond the cap: the bucket's record
            if error:  # it names its service in extra
                record["extra"] = {**record["extra"], "overflowed_service": service}
            record["service"] = counted
        if error:
            self._group(record, changes, outgoing, offset)
        changes.apply_record(record, offset, size)

    def _group(self, record: dict[str, Any], changes: Changes, outgoing: Outgoing, offset: int) -> None:
        """Group and title an error; forward it to the errors topic."""
        service = record["service"]
        own = changes.group_of(service, fingerprint_candidates(record, changes.oldest_grouping(service)))
        record["fingerprint"] = changes.grouped_as(service, own, offset)
        if record["fingerprint"] == own:
            record["title"] = group_title(record)
        else:  # beyond the group cap: the overflow group's error, naming its own fingerprint in extra
            record["extra"] = {**record["extra"], "overflowed_fingerprint": own}
            record["title"] = OVERFLOW_TITLE
        public = public_name(service)
        forwarded_error = record if public == service else {**record, "service": public}
        # The partition Kafka's default partitioner picks for the key, known: the errors topic has the logs topic's
        # partition count (checked at start) and aiokafka's pure-Python murmur2 took 2.4 us an error.
        outgoing.append((self.errors_topic, public.encode(), compact_json.dumps(forwarded_error), self._homes[public],
                         None))

    def _forward_unparsed(self, message: ConsumerRecord, value: bytes | Rejected | None, index: int | None,
                          forwards: Forwards) -> bool:
        """Forward an unkeyed record that is plainly off its home by its service alone, unparsed; whether it was.

        An unkeyed producer's records are nearly all elsewhere than home (7 in 8 with 8 partitions),
        and the home parses each one anyway. Records that are not plainly native, or oversized, take
        the full parse here (and are dead-lettered here if invalid).
        """
        if not isinstance(value, bytes) or len(value) > MAX_RECORD_BYTES or (service := native_service(value)) is None:
            return False
        if (home := self._homes[service]) == message.partition:
            return False
        forwards.add(home, None, value, message.headers, message.offset, index)
        return True

    async def __call__(self, batch: Batch) -> None:
        """Parse every record of one partition's batch; forward errors, dead-letter invalid ones, aggregate.

        Records arrive in offset order, a fetched batch at a time (``engine/batch_consumer.py``), so each
        table cell is written once per batch, not per record. Records read again after a restart
        (from the last committed offset) are forwarded and dead-lettered again even where the table
        cells already count them: a cell says what was counted, not what reached Kafka (its changelog
        write can be delivered while the forward beside it was refused, ``server/delivery.py``). Readers
        of the errors topic de-duplicate by record id, of the dead-letter topic by source offset; the
        home partition of forwarded records by their source position (``pipeline/repartition.py``).
        """
        outgoing = Outgoing()
        if batch.last.topic == self.repartition_topic:
            await self._count_forwarded(batch, outgoing)
            await self._send(outgoing)
        else:
            changes = Changes(batch.last.partition, self._tables, self._bounds)
            forwards = Forwards(batch.last.topic, batch.last.partition)
            pacer = Pacer()
            for message in batch.records:
                value = message.value
                if REDACTED in message.headers or not may_be_batch(value):  # one record: our handler's, nearly all
                    self._route_one(message, value, None, changes, outgoing, pacer.now, forwards)
                    if pacer.done(len(value or b"")):
                        await asyncio.sleep(0)
                    continue
                for index, record in records_of(value, pacer.now):  # an OTLP batch's records, or the value itself
                    self._route_one(message, record, index, changes, outgoing, pacer.now, forwards)
                    if pacer.done(size_of(record)):
                        await asyncio.sleep(0)
            outgoing.extend((self.repartition_topic, *message) for message in forwards.messages())
            await self._send(outgoing)
            RECORDS_REPARTITIONED.inc(len(forwards))
            self._write(changes, batch)

    async def _count_forwarded(self, batch: Batch, outgoing: Outgoing) -> None:
        """Count a batch of the repartition topic, each record at its source position, a source partition at a time."""
        by_source: dict[int, list[tuple[ConsumerRecord, bytes, Source]]] = {}
        highest: dict[int, int] = {}  # by source partition: the highest position in the batch so far
        for message in batch.records:
            if (records := forwarded_records(message.value, message.headers)) is None:
                letter = dead_letter(message.value, NOT_FORWARDED, message.topic, message.partition, message.offset,
                                     redactor=redactor_for(message.headers))
                outgoing.append((self.dead_letters_topic, message.key, letter, None, None))
                INVALID_RECORDS.labels(NOT_FORWARDED.split(":", 1)[0]).inc()
                continue
            for value, source in records:
                if (at := source.position) <= highest.get(source.partition, -1):
                    continue  # forwarded again within the batch (the cells skip what earlier batches counted)
                highest[source.partition] = at
                by_source.setdefault(source.partition, []).append((message, value, source))
        pacer = Pacer()
        for partition, forwarded in by_source.items():
            changes = Changes(partition, self._tables, self._bounds, home=batch.last.partition)
            for message, value, source in forwarded:
                self._route_one(message, value, source.index_in_batch, changes, outgoing, pacer.now, None,
                                source)
                if pacer.done(len(value)):
                    await asyncio.sleep(0)
            self._write(changes, batch)  # before the next source's records read the cells

    def _write(self, changes: Changes, batch: Batch) -> None:
        """Store the batch's changed cells; count its records in the metrics."""
        for service, level, count in changes.routed():
            RECORDS_ROUTED.labels(self._labels.label(service), level).inc(count)
        last = batch.last
        with writing_as_handler_of(Event(self._app, last.key, last.value, last.headers, last)):
            changes.write()

    async def _send(self, outgoing: Outgoing) -> None:
        producer = self._app.producer
        for topic, key, value, partition, headers in outgoing:  # the producer itself: topic.send costs 5x more
            await producer.send(topic, key, value, partition, None, headers)  # the next commit waits for the outcome
        ERRORS_FORWARDED.inc(sum(topic == self.errors_topic for topic, *_rest in outgoing))
