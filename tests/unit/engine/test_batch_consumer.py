"""Contract of the batch consumer hook with Faust's Consumer (faust-streaming 0.15.3)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiokafka import ConsumerRecord
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from faust.types.tuples import ack_lock

from logmonitor.engine.batch_consumer import Batch, BatchingConsumer
from logmonitor.engine.transport import BatchingApp
from tests.unit.engine.signatures import bare_signature, calls

Consumer = faust_aiokafka.Consumer
TOPIC = TP("contract-logs", 0)
VERIFIED_SIGNATURES = {
    "_drain_messages": "(self, fetcher)",
    "_new_offset": "(self, tp)",
    "_filter_tps_with_pending_acks": "(self, topics=None)",
    "_add_gap": "(self, tp, offset_from, offset_to)",
    "_wait_next_records": "(self, timeout)",
    "_to_message": "(self, tp, record)",
    "ack": "(self, message)",
    "perform_seek": "(self)",
    "on_partitions_revoked": "(self, revoked)",
    "seek": "(self, partition, offset)",
    "earliest_offsets": "(self, *partitions)",
    "commit": "(self, topics=None, start_new_transaction=True)",
}
UPSTREAM_STATE = ("_committed_offset", "_read_offset", "_unacked_messages", "_n_acked", "_commit_every",
                  "_commit_fut", "_buffered_partitions", "_waiting_for_ack", "_stopped", "_acked")


@pytest.fixture
def consumer() -> Iterator[BatchingConsumer]:
    app = BatchingApp("engine-contract", broker="kafka://127.0.0.1:1")  # never connected
    yield app.consumer


def records(*offsets: int) -> list[ConsumerRecord]:
    return [ConsumerRecord(TOPIC.topic, TOPIC.partition, offset, 0, 0, b"k", b"{}", None, 1, 2, [])
            for offset in offsets]


@pytest.mark.parametrize(("name", "verified"), VERIFIED_SIGNATURES.items())
def test_the_upstream_methods_have_the_verified_signatures(name: str, verified: str) -> None:
    assert bare_signature(getattr(Consumer, name)) == verified


def test_the_upstream_state_the_hook_uses_exists_on_a_new_consumer(consumer: BatchingConsumer) -> None:
    for name in UPSTREAM_STATE:
        assert hasattr(consumer, name), name
    assert consumer._n_acked == 0 and consumer._commit_fut is None and not consumer._unacked_messages


def test_the_fetcher_runs_drain_messages_and_a_rebalance_waits_for_unacked_messages() -> None:
    assert calls(faust_consumer.Fetcher._fetcher, "consumer._drain_messages(self)")
    assert calls(Consumer.wait_empty, "while not self.should_stop and self._unacked_messages", "self._wait_for_ack)")
    assert calls(Consumer._wait_for_ack, "self._waiting_for_ack = asyncio.Future")


def test_a_commit_takes_a_delivered_batchs_offset_through_the_overridden_methods(consumer: BatchingConsumer) -> None:
    consumer._processed_up_to[TOPIC] = 11
    assert calls(Consumer.force_commit, "self._filter_tps_with_pending_acks(topics)")
    tps = list(consumer._filter_tps_with_pending_acks({TOPIC.topic}))
    assert tps == [TOPIC]
    assert consumer._filter_committable_offsets(tps) == {TOPIC: 11}, "upstream asks _new_offset for the offset"


def test_faust_acks_under_ack_lock() -> None:
    assert Consumer.ack.__globals__["ack_lock"] is ack_lock
    assert calls(Consumer.ack, "with ack_lock:", "self._n_acked += 1", "self._unacked_messages.discard(message)",
                 "notify(self._waiting_for_ack)")


class _LockWatchingSet(set):  # type: ignore[type-arg]
    """A set that notes, at each discard, whether this thread holds Faust's ``ack_lock``."""

    def __init__(self) -> None:
        super().__init__()
        self.discarded_under_lock: list[bool] = []

    def discard(self, element: object) -> None:
        self.discarded_under_lock.append(ack_lock._is_owned())  # type: ignore[attr-defined]
        super().discard(element)


async def test_a_delivered_batch_is_acked_as_faust_acks_under_ack_lock(consumer: BatchingConsumer) -> None:
    watched = consumer._unacked_messages = _LockWatchingSet()
    consumer._waiting_for_ack = waiting = asyncio.get_running_loop().create_future()
    seen: list[Batch] = []

    async def handler(batch: Batch) -> None:
        assert len(watched) == 1, "a rebalance waits for the batch in hand"
        seen.append(batch)

    await consumer._deliver_batch(handler, TOPIC, records(7, 8, 9))
    assert [record.offset for record in seen[0].records] == [7, 8, 9] and seen[0].last.offset == 9
    assert seen[0].last.acked and not watched
    assert watched.discarded_under_lock == [True]
    assert consumer._n_acked == 3 and consumer._new_offset(TOPIC) == 10
    assert waiting.done(), "a waiting rebalance is woken"


class _Seeks:
    """The consumer's seek and gap bookkeeping, recorded instead of done."""

    def __init__(self, consumer: BatchingConsumer) -> None:
        self.seeks: list[tuple[TP, int]] = []
        self.gaps: list[tuple[TP, int, int]] = []

        async def seek(tp: TP, offset: int) -> None:
            self.seeks.append((tp, offset))

        async def add_gap(tp: TP, offset_from: int, offset_to: int) -> None:
            self.gaps.append((tp, offset_from, offset_to))

        consumer.seek = seek  # type: ignore[method-assign]
        consumer._add_gap = add_gap  # type: ignore[method-assign]


def offsets(taken: list[ConsumerRecord]) -> list[int]:
    return [record.offset for record in taken]


async def test_a_batch_in_sequence_is_taken_whole_and_the_next_offset_follows_it(consumer: BatchingConsumer) -> None:
    done = _Seeks(consumer)
    assert offsets(await consumer._in_sequence(TOPIC, records(0, 1, 2))) == [0, 1, 2], "nothing expected yet"
    assert offsets(await consumer._in_sequence(TOPIC, records(3, 4))) == [3, 4]
    assert consumer._next_offset[TOPIC] == 5 and not done.seeks and not done.gaps


async def test_records_read_already_are_left_out(consumer: BatchingConsumer) -> None:
    done = _Seeks(consumer)
    consumer._next_offset[TOPIC] = 10
    assert offsets(await consumer._in_sequence(TOPIC, records(8, 9, 10, 11))) == [10, 11]
    assert offsets(await consumer._in_sequence(TOPIC, records(5, 6))) == []
    assert consumer._next_offset[TOPIC] == 12 and not done.seeks


async def test_a_jump_is_read_again_from_the_expected_offset_before_it_is_taken_for_a_gap(
        consumer: BatchingConsumer) -> None:
    done = _Seeks(consumer)
    consumer._next_offset[TOPIC] = 10
    assert offsets(await consumer._in_sequence(TOPIC, records(13, 14))) == [], "maybe prefetched from an old position"
    assert done.seeks == [(TOPIC, 10)] and not done.gaps
    assert offsets(await consumer._in_sequence(TOPIC, records(13, 14))) == [13, 14], "the same jump again: a gap"
    assert done.gaps == [(TOPIC, 10, 12)] and consumer._next_offset[TOPIC] == 15


async def test_a_jump_that_reading_again_fills_is_no_gap(consumer: BatchingConsumer) -> None:
    done = _Seeks(consumer)
    consumer._next_offset[TOPIC] = 10
    assert offsets(await consumer._in_sequence(TOPIC, records(9, 10, 13))) == [10], "in sequence up to the jump"
    assert done.seeks == [(TOPIC, 11)]
    assert offsets(await consumer._in_sequence(TOPIC, records(11, 12, 13))) == [11, 12, 13]
    assert not done.gaps and consumer._next_offset[TOPIC] == 14
    assert offsets(await consumer._in_sequence(TOPIC, records(16))) == [] and done.seeks[-1] == (TOPIC, 14), (
        "an earlier suspicion settled by reading on does not let a later jump through")


def test_a_delivered_batchs_commit_offset_is_given_once_and_only_for_the_topics_asked(
        consumer: BatchingConsumer) -> None:
    other = TP("contract-other", 0)
    consumer._processed_up_to.update({TOPIC: 12, other: 3})
    assert set(consumer._filter_tps_with_pending_acks({TOPIC.topic})) == {TOPIC}
    assert set(consumer._filter_tps_with_pending_acks(None)) == {TOPIC, other}
    assert consumer._new_offset(TOPIC) == 12
    assert consumer._new_offset(TOPIC) is None, "committed once; then Faust's own bookkeeping (nothing acked)"
    assert consumer._filter_committable_offsets([TOPIC, other]) == {other: 3}


async def test_after_a_rebalance_every_stream_partition_nobody_committed_is_read_from_its_earliest_offset(
        consumer: BatchingConsumer, monkeypatch: pytest.MonkeyPatch) -> None:
    commands, changelog, read = TP("contract-commands", 3), TP("contract-state-changelog", 3), TP("contract-logs", 1)
    done = _Seeks(consumer)
    consumer.app.batch_handlers[TOPIC.topic] = lambda batch: asyncio.sleep(0)  # type: ignore[attr-defined]

    async def seek_to_committed() -> dict[TP, int | None]:  # aiokafka's: it seeks those committed (above 0) only
        return {TOPIC: None, commands: None, changelog: None, read: 7}

    async def earliest_offsets(*partitions: TP) -> dict[TP, int]:
        return {tp: 2 if tp == TOPIC else 0 for tp in partitions}

    monkeypatch.setattr(consumer, "seek_to_committed", seek_to_committed)
    monkeypatch.setattr(consumer, "earliest_offsets", earliest_offsets)
    monkeypatch.setattr(consumer, "assignment", lambda: {TOPIC, commands, changelog, read})
    monkeypatch.setattr(consumer.app.topics, "acks_enabled_for", lambda topic: topic != changelog.topic)
    await consumer.perform_seek()
    assert sorted(done.seeks) == [(commands, 0), (TOPIC, 2)], (
        "a command fetched and dropped while its partition was paused is read again; the changelog is recovery's")
    assert consumer._next_offset == {TOPIC: 2, read: 7}, "batch-handled partitions expect their next offset"
