"""A Faust consumer that hands each partition's fetched records of chosen topics to one handler call.

Faust delivers every record through ``wait_first(callback(message), ...)``: four asyncio tasks,
a queue hop and a stream step per record, most of a worker's CPU at ~10,000 records/s
(``bench/pipeline``, P2). For a topic with a batch handler, this consumer instead tracks the
fetched records of one partition, awaits ``handler(messages)`` once, then acks them, so
Faust's commit bookkeeping, rebalances (which wait for tracked records) and table recovery
work unchanged. Records of other topics take Faust's own path.

Three of Faust's habits can lose records around a rebalance (the failover test lost up to
2,000 of the 6,000 records produced while a worker was down), so batch-handled topics avoid them:

- Faust treats any jump in offsets as a gap (compacted records, transaction markers) and
  commits across it. After a seek, records prefetched from the old position arrive with such
  a jump, and the records in between were never processed. Here a jump is only taken for a
  gap once reading again from the expected offset gives the same jump.
- Faust does not seek a partition without a committed offset, and its fetcher may have
  read past records it dropped while the partition was paused: batch-handled partitions
  without one are sought to their earliest offset.
- Faust resumes fetching while it restores tables from their changelogs; a handler writing
  then has its writes replaced by the restore. Records fetched during a rebalance are set
  aside, and the first fetch after it seeks back to the committed offsets.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message

__all__ = ["BatchHandler", "BatchingConsumer", "BatchingTransport"]

BatchHandler = Callable[[list[Message]], Awaitable[None]]


class _Place(enum.Enum):
    NEXT = "next"
    READ_ALREADY = "read already"
    SOUGHT_BACK = "sought back"


class BatchingConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, with whole-batch delivery for ``app.batch_handlers``' topics."""

    _seek_back = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self._next_offset: dict[TP, int] = {}  # batch-handled partitions: the offset to read next
        self._suspected_gaps: dict[TP, tuple[int, int]] = {}

    async def perform_seek(self) -> None:
        """Seek every partition to its committed offset, and expect reading to go on there.

        Faust leaves a partition nobody has committed yet where the fetcher happens to be,
        which after a rebalance can be past records it fetched and dropped while the partition
        was paused; batch-handled ones go to their earliest offset, as ``auto_offset_reset``
        (earliest) means.
        """
        await super().perform_seek()
        handled = {tp for tp in self.assignment() if tp.topic in self.app.batch_handlers}  # type: ignore[attr-defined]
        self._next_offset = {tp: offset for tp in handled if (offset := self._committed_offset.get(tp)) is not None}
        uncommitted = handled - self._next_offset.keys()
        earliest = await self.earliest_offsets(*uncommitted) if uncommitted else {}
        for tp in uncommitted:
            self._next_offset[tp] = earliest.get(tp, 0)
            await self.seek(tp, self._next_offset[tp])

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
                        await self._deliver_batch(handler, messages)
                    else:
                        continue  # not read: _batches_allowed seeks back to them
                    self._read_offset[tp] = messages[-1].offset
                    await self._maybe_commit()
        except (asyncio.CancelledError, *self.consumer_stopped_errors):  # type: ignore[misc]
            if not self.transport.app.should_stop:
                raise
            self.log.info("Consumer shutting down")

    async def _fetch(self, handlers: Mapping[str, BatchHandler]) -> dict[TP, list[Message]]:
        """One fetch, grouped by partition in offset order, without records already read."""
        fetched: dict[TP, list[Message]] = {}
        async for tp, message in self.getmany(timeout=1.0):
            fetched.setdefault(tp, []).append(message)
        await self.sleep(0)
        for tp in list(fetched):
            check = self._in_sequence if tp.topic in handlers else self._faust_in_sequence
            fetched[tp] = await check(tp, fetched[tp])
            if not fetched[tp]:
                del fetched[tp]
        return fetched

    async def _in_sequence(self, tp: TP, messages: list[Message]) -> list[Message]:
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

    async def _deliver_batch(self, handler: BatchHandler, messages: list[Message]) -> None:
        self._unacked_messages |= set(messages)  # what a rebalance waits for (no per-record sensors)
        await handler(messages)
        for message in messages:
            self.ack(message)

    async def _deliver_one_by_one(self, messages: list[Message]) -> None:
        for message in messages:
            await self.wait_first(self.callback(message), self.suspend_flow.wait())

    async def _maybe_commit(self) -> None:
        if self._commit_every is not None and self._n_acked >= self._commit_every:
            self._n_acked = 0
            await self.commit()


class BatchingTransport(faust_aiokafka.Transport):
    """The ``kafka://`` transport with :class:`BatchingConsumer`."""

    Consumer = BatchingConsumer
