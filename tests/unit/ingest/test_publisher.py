"""The publisher answers only once every record is acknowledged, and holds the bytes until they settle."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import orjson
import pytest

from logmonitor.handler.redaction import FILTERED
from logmonitor.ingest import publisher
from logmonitor.ingest.decoded import Decoded, Rejected
from logmonitor.ingest.publisher import InFlight, KafkaUnavailable, Publisher


class FakeProducer:
    """Queues sends as futures the test settles (``auto``: acknowledged at once)."""

    def __init__(self, auto: bool = True) -> None:
        self.auto = auto
        self.sent: list[tuple[str, bytes, bytes | None, asyncio.Future[object]]] = []

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> asyncio.Future[object]:
        acknowledgement: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if self.auto:
            acknowledgement.set_result(None)
        self.sent.append((topic, value, key, acknowledgement))
        return acknowledgement


DECODED = Decoded(records=[("billing", b'{"id":"1"}'), ("search", b'{"id":"2"}')],
                  rejected=[Rejected("not_json: expected a value", b"{oops")])


class Releases:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


async def test_records_go_to_the_logs_topic_keyed_by_service_and_rejected_ones_to_the_dlq() -> None:
    producer, released = FakeProducer(), Releases()
    await Publisher(producer, "logs", "dlq", timeout=5).publish(DECODED, {"ingest": "/v1/logs"}, "/v1/logs", released)
    assert [(topic, value, key) for topic, value, key, _ in producer.sent[:2]] == [
        ("logs", b'{"id":"1"}', b"billing"), ("logs", b'{"id":"2"}', b"search")]
    topic, value, key, _ = producer.sent[2]
    letter = orjson.loads(value)
    assert (topic, key) == ("dlq", None)
    assert (letter["reason"], letter["raw"], letter["source"]) == ("not_json: expected a value", "{oops",
                                                                    {"ingest": "/v1/logs"})
    await asyncio.sleep(0)
    assert released.count == 1


async def test_rejected_records_are_dead_lettered_redacted_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Redaction reads up to 64 KiB of each rejected record: a body of hostile ones would hold the loop for seconds."""
    threads: list[threading.Thread] = []
    real = publisher.dead_letter_from

    def recorded(*args: Any) -> bytes:
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(publisher, "dead_letter_from", recorded)
    producer = FakeProducer()
    rejected = [Rejected("not_json: expected a value", b"{token=s3cr3t"), Rejected("bad_level: x", b"a:" * 100_000)]
    await Publisher(producer, "logs", "dlq", timeout=5).publish(Decoded(rejected=rejected), {}, "/v1/logs", Releases())
    assert len(threads) == 2 and threading.main_thread() not in threads
    first, second = (orjson.loads(value) for _topic, value, _key, _ in producer.sent)
    assert first["raw"] == f"{{token={FILTERED}" and first["raw_redacted"] is True
    assert second["raw_truncated"] is True and len(second["raw"]) == 64 * 1024


async def test_no_acknowledgement_in_time_is_unavailable_and_the_bytes_stay_held_until_the_records_settle() -> None:
    producer, released = FakeProducer(auto=False), Releases()
    with pytest.raises(KafkaUnavailable):
        await Publisher(producer, "logs", "dlq", timeout=0.05).publish(DECODED, {}, "/v1/logs", released)
    await asyncio.sleep(0)
    assert released.count == 0, "the producer still holds the records"
    for *_, acknowledgement in producer.sent:
        acknowledgement.set_exception(TimeoutError("batch expired"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert released.count == 1


async def test_one_refused_record_fails_the_whole_request() -> None:
    producer, released = FakeProducer(auto=False), Releases()
    publishing = asyncio.create_task(Publisher(producer, "logs", "dlq", timeout=5).publish(DECODED, {}, "r", released))
    for _ in range(10):  # let the task hand its three records over
        await asyncio.sleep(0)
    assert len(producer.sent) == 3
    producer.sent[0][3].set_result(None)
    producer.sent[1][3].set_exception(RuntimeError("not leader"))
    producer.sent[2][3].set_result(None)
    with pytest.raises(KafkaUnavailable, match="not leader"):
        await publishing
    assert released.count == 1


def test_in_flight_bytes_are_bounded_but_one_request_alone_always_fits() -> None:
    in_flight = InFlight(100)
    assert in_flight.try_take(250) and in_flight.full, "alone, even a request above the bound is served"
    assert not in_flight.try_take(1)
    in_flight.give_back(250)
    assert in_flight.try_take(60) and not in_flight.try_take(41) and in_flight.try_take(40)
    assert in_flight.full


def test_a_request_read_in_pieces_alone_always_fits_others_wait() -> None:
    in_flight = InFlight(100)
    assert in_flight.try_take(80, own=0) and in_flight.try_take(80, own=80), "alone: its own bytes do not count"
    assert not in_flight.try_take(1, own=0), "another request beside it is refused"
    in_flight.give_back(160)
    assert in_flight.try_take(60, own=0) and not in_flight.try_take(41, own=0) and in_flight.try_take(40, own=0)
    assert not in_flight.try_take(50, own=40), "a request among others takes only what fits"
