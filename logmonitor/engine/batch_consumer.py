"""A Faust consumer that hands each partition's fetched records of chosen topics to one handler call.

Faust delivers every record through ``wait_first(callback(message), ...)``: four asyncio tasks,
a queue hop and a stream step per record, most of a worker's CPU at ~10,000 records/s
(``bench/pipeline``, P2); even its message objects and per-record acks cost more than a plain
aiokafka loop's whole work. For a topic with a batch handler, this consumer instead awaits
``handler(batch)`` once per partition's fetched records (aiokafka's records as they come),
then marks the batch processed as a whole: a rebalance waits for the batch in hand, and the
commit offset is the one after the batch's last record. Faust's commit loop, rebalances and
table recovery work unchanged. Records of other topics take Faust's own path.

Three of Faust's habits can lose records around a rebalance (the failover test lost up to
2,000 of the 6,000 records produced while a worker was down), so batch-handled topics avoid them:

- Faust treats any jump in offsets as a gap (compacted records, transaction markers) and
  commits across it. After a seek, records prefetched from the old position arrive with such
  a jump, and the records in between were never processed. Here a jump is only taken for a
  gap once reading again from the expected offset gives the same jump.
- Faust does not seek a partition without a committed offset, and its fetcher may have
  read past records it dropped while the partition was paused: every stream partition
  without one (batch-handled or not) is sought to its earliest offset.
- Faust resumes fetching while it restores tables from their changelogs; a handler writing
  then has its writes replaced by the restore. Records fetched during a rebalance are set
  aside, and the first fetch after it seeks back to the committed offsets.

Verified against faust-streaming 0.15.3 (with mode-streaming 0.7.1, aiokafka 0.14.0). It
assumes of Faust's ``Consumer`` (``faust/transport/consumer.py``): its fetcher runs
``_drain_messages(fetcher)``; a commit takes each partition's offset from ``_new_offset(tp)``
for the partitions ``_filter_tps_with_pending_acks(topics)`` yields; a rebalance waits until
``_unacked_messages`` is empty, woken by ``_waiting_for_ack``; ``ack()`` does its bookkeeping
under ``faust.types.tuples.ack_lock`` (so does :meth:`BatchingConsumer._deliver_batch`);
``_committed_offset``, ``_read_offset``, ``_n_acked``, ``_commit_every``, ``_commit_fut``,
``_buffered_partitions``, ``_add_gap``, ``_wait_next_records`` and ``_to_message`` mean what
they mean there. ``tests/unit/engine/test_batch_consumer.py`` checks each.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from aiokafka import ConsumerRecord
from faust.types import TP, Message
from faust.types.transports import TPorTopicSet
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

from logmonitor.engine.fetch_wait import ShortPollConsumer

__all__ = ["Batch", "BatchHandler", "BatchingConsumer"]


class Batch(NamedTuple):
    """One partition's fetched records, in offset order, for a batch handler."""

    records: Sequence[ConsumerRecord]  # aiokafka's: topic, partition, offset, key, value, headers
    last: Message  # the last record as Faust's message (what table writes are done for)


BatchHandler = Callable[[Batch], Awaitable[None]]
Fetched = dict[TP, list[Any]]  # batch-handled partitions: ConsumerRecords; others: Faust messages


class _Place(enum.Enum):
    NEXT = "next"
    READ_ALREADY = "read already"
    SOUGHT_BACK = "sought back"


class BatchingConsumer(ShortPollConsumer):
    """Faust's aiokafka consumer, with whole-batch delivery for ``app.batch_handlers``' topics."""

    _seek_back = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self._next_offset: dict[TP, int] = {}  # batch-handled partitions: the offset to read next
        self._suspected_gaps: dict[TP, tuple[int, int]] = {}
        self._processed_up_to: dict[TP, int] = {}  # batch-handled partitions: the offset to commit

    async def perform_seek(self) -> None:
        """Seek every partition to its committed offset, and expect reading to go on there.

        Faust (aiokafka's ``seek_to_committed``) leaves a partition nobody has committed yet
        where the fetcher happens to be, which after a rebalance can be past records it fetched
        and dropped while the partition was paused or the flow suspended. Every such partition of
        a stream topic (acked: the logs, the forwards, the status commands; not the changelogs,
        which recovery reads) goes to its earliest offset, as ``auto_offset_reset`` (earliest)
        means: a status command produced while its partition was being recovered was skipped
        for good otherwise.
        """
        await super().perform_seek()
        acked = self.app.topics.acks_enabled_for
        streamed = {tp for tp in self.assignment() if acked(tp.topic)}
        committed = {tp: offset for tp in streamed if (offset := self._committed_offset.get(tp)) is not None}
        uncommitted = streamed - committed.keys()
        earliest = await self.earliest_offsets(*uncommitted) if uncommitted else {}
        for tp in uncommitted:
            committed[tp] = earliest.get(tp, 0)
            await self.seek(tp, committed[tp])
        handlers = self.app.batch_handlers  # type: ignore[attr-defined]
        self._next_offset = {tp: offset for tp, offset in committed.items() if tp.topic in handlers}

    async def _drain_messages(self, fetcher: Any) -> None:
        handlers: Mapping[str, BatchHandler] = self.app.batch_handlers  # type: ignore[attr-defined]
        consumer_stopped, fetcher_stopped = self._stopped.is_set, fetcher._stopped.is_set
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                fetched = await self._fetch(handlers)
                batches_allowed = await self._batches_allowed(fetched, handlers)
                for tp, messages in fetched.items():
                    if not self.flow_active:
                        break  # a rebalance began: Faust seeks back to committed offsets
                    handler = handlers.get(tp.topic)
                    if handler is None:
                        await self._deliver_one_by_one(messages)
                    elif batches_allowed:
                        await self._deliver_batch(handler, tp, messages)
                    else:
                        continue  # not read: _batches_allowed seeks back to them
                    self._read_offset[tp] = messages[-1].offset
                    self._maybe_commit()
        except (asyncio.CancelledError, *self.consumer_stopped_errors):  # type: ignore[misc]
            if not self.transport.app.should_stop:
                raise
            self.log.info("Consumer shutting down")

    async def _fetch(self, handlers: Mapping[str, BatchHandler]) -> Fetched:
        """One fetch, grouped by partition in offset order, without records already read.

        What Faust's ``getmany`` does, a partition at a time instead of a record at a time.
        """
        records, active = await self._wait_next_records(1.0)
        if records is None or self.should_stop:
            return {}
        if not self.flow_active:  # a rebalance began while fetching
            await self.perform_seek()
            return {}
        fetched: Fetched = {}
        for tp, batch in records.items():
            if active is not None and tp not in active and tp not in self._buffered_partitions:
                continue
            self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            if tp.topic in handlers:
                taken = await self._in_sequence(tp, batch)
            else:
                taken = await self._faust_in_sequence(tp, [self._to_message(tp, record) for record in batch])
            if taken:
                fetched[tp] = taken
        await self.sleep(0)
        return fetched

    async def _in_sequence(self, tp: TP, messages: list[ConsumerRecord]) -> list[ConsumerRecord]:
        """The records of a batch-handled partition that come next, in order (usually all)."""
        expected = self._next_offset.get(tp)
        first, last = messages[0].offset, messages[-1].offset
        if (expected is None or first == expected) and last - first == len(messages) - 1:
            self._read_up_to(tp, last)
            return messages
        taken = []
        for message in messages:
            place = await self._place(tp, message.offset)
            if place is _Place.NEXT:
                taken.append(message)
            elif place is _Place.SOUGHT_BACK:
                break  # the records before stay: they are in sequence
        return taken

    async def _place(self, tp: TP, offset: int) -> _Place:
        """Where the record at ``offset`` stands in a batch-handled partition.

        An earlier offset was read already. A later one is a gap (compaction, transaction
        markers) only if it shows up again when reading from the expected offset: until then
        the partition is sought back there.
        """
        expected = self._next_offset.get(tp)
        if expected is None or offset == expected:
            self._read_up_to(tp, offset)
            return _Place.NEXT
        if offset < expected:
            return _Place.READ_ALREADY
        if self._suspected_gaps.pop(tp, None) == (expected, offset):
            self.log.info("%s: offsets %d-%d are not in the log; going on at %d", tp, expected, offset - 1, offset)
            await self._add_gap(tp, expected, offset - 1)
            self._read_up_to(tp, offset)
            return _Place.NEXT
        self._suspected_gaps[tp] = (expected, offset)
        await self.seek(tp, expected)
        return _Place.SOUGHT_BACK

    def _read_up_to(self, tp: TP, offset: int) -> None:
        """Expect ``offset + 1`` next; a suspected gap before it is settled."""
        self._next_offset[tp] = offset + 1
        self._suspected_gaps.pop(tp, None)

    async def _faust_in_sequence(self, tp: TP, messages: list[Message]) -> list[Message]:
        """Faust's own check for other topics: drop records read already, take jumps for gaps."""
        taken = []
        for message in messages:
            offset, last_read = message.offset, self._read_offset[tp]
            if last_read is not None and offset < last_read:
                continue
            if last_read and offset - last_read > 1 and self.app.topics.acks_enabled_for(tp.topic):
                await self._add_gap(tp, last_read + 1, offset)
            self._read_offset[tp] = offset
            taken.append(message)
        return taken

    async def _batches_allowed(self, fetched: dict[TP, list[Message]], handlers: Mapping[str, Any]) -> bool:
        """Whether records just fetched may go to batch handlers (not during or right after a rebalance)."""
        if self.app.rebalancing:
            aside = sum(len(messages) for tp, messages in fetched.items() if tp.topic in handlers)
            if aside:
                self.log.info("Setting aside %d records fetched during the rebalance", aside)
                self._seek_back = True
            return False
        if self._seek_back:
            self._seek_back = False
            await self.perform_seek()
            return False
        return True

    async def _deliver_batch(self, handler: BatchHandler, tp: TP, records: list[ConsumerRecord]) -> None:
        last = self._to_message(tp, records[-1])
        self._unacked_messages.add(last)  # what a rebalance waits for
        await handler(Batch(records, last))
        with ack_lock:  # as Consumer.ack(): the counters are shared with events acked from other threads
            last.acked = True
            self._unacked_messages.discard(last)
            self._processed_up_to[tp] = last.offset + 1
            self._n_acked += len(records)
            notify(self._waiting_for_ack)

    def _new_offset(self, tp: TP) -> int | None:
        if tp in self._processed_up_to:
            return self._processed_up_to.pop(tp)
        return super()._new_offset(tp)

    def _filter_tps_with_pending_acks(self, topics: TPorTopicSet | None = None) -> Iterator[TP]:
        yield from super()._filter_tps_with_pending_acks(topics)
        yield from (tp for tp in list(self._processed_up_to)
                    if topics is None or tp in topics or tp.topic in topics)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Forget the revoked partitions' pending commits, as Faust forgets their acks."""
        for tp in revoked:
            self._processed_up_to.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    async def _deliver_one_by_one(self, messages: list[Message]) -> None:
        for message in messages:
            await self.wait_first(self.callback(message), self.suspend_flow.wait())

    def _maybe_commit(self) -> None:
        """Every ``commit_every`` records, start a commit that runs beside the fetching.

        A commit first waits for the producer to flush (changelogs, forwarded records); Faust
        waits for it in its fetch loop, which left the worker idle a fifth of the time.
        """
        if self._commit_every is not None and self._n_acked >= self._commit_every and self._commit_fut is None:
            self._n_acked = 0
            self.add_future(self.commit())

