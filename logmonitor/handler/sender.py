"""The handler's background thread: encodes records and delivers them to Kafka, in order.

Records go straight to the producer while Kafka takes them. When Kafka is away (a delivery
is overdue or librdkafka reports every broker down) or the producer holds more than the
memory bound, new records go to the disk spool instead; the spool is delivered, oldest
first, once the producer's queue has drained, and records go straight to the producer
again when the spool is empty. librdkafka keeps undelivered records until they are
delivered (``message.timeout.ms=0``) and, with the idempotent producer, in order per
partition, so the order per service (= per key = per partition) holds throughout.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from logmonitor.handler.encoding import Captured, RecordEncoder
from logmonitor.handler.redaction import REDACTED_HEADER, REDACTION_RULES
from logmonitor.handler.spool import SpooledRecord
from logmonitor.handler.spool_keeper import SpoolKeeper
from logmonitor.levels import LEVEL_RANK, level_name

__all__ = ["ProducerFactory", "Sender", "SenderConfig"]

_DRAIN_CHUNK = 2000
_PURGED = frozenset({KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT})
_TRY_AGAIN_LATER = _PURGED | {KafkaError._UNKNOWN_TOPIC, KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._MSG_TIMED_OUT}
_ENCODE_BATCH = 5000

ProducerFactory = Callable[[dict[str, Any]], Producer]
"""Builds the producer from its librdkafka configuration (confluent_kafka's ``Producer``; a fake in tests)."""


@dataclass(frozen=True)
class SenderConfig:
    """How the sender talks to Kafka and how much it holds where."""

    topic: str
    producer: dict[str, Any]
    memory_records: int
    offline_after: float = 5.0
    report_interval: float = 60.0


class _Order:
    """Strictly increasing emit-order keys, comparable across processes (nanoseconds)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(self._last + 1, time.time_ns())
        return self._last


class Sender(threading.Thread):
    """Moves captured records from the handler's queue to Kafka (or the spool)."""

    def __init__(self, config: SenderConfig, queue: deque[Captured], encoder: RecordEncoder,
                 spool: SpoolKeeper, producer_factory: ProducerFactory = Producer) -> None:
        super().__init__(name="logmonitor-kafka-sender", daemon=True)
        self.config = config
        self.producer_factory = producer_factory
        self.queue = queue
        self.encoder = encoder
        self.spool = spool
        self.producer: Producer | None = None
        self.delivered = 0
        self.failed = 0
        self.internal_errors = 0
        self._order = _Order()
        # Tells the router not to redact again (what a redact=False handler sends, it redacts).
        self._headers: list[tuple[str, str | bytes | None]] | None = (
            [(REDACTED_HEADER, REDACTION_RULES)] if encoder.redactor.enabled else None)
        self._outstanding: dict[int, float] = {}  # order -> produce time, direct records only
        self._spool_inflight: set[int] = set()
        self._spool_cursor = -1
        self._spool_done: list[int] = []
        self._purged: list[SpooledRecord] = []
        self._brokers_down = False
        self._evacuated = False
        self._stop_requested = threading.Event()
        self._deadline = 0.0
        self._working = False
        self._last_report = 0.0
        self._reported_drops = 0

    # --- lifecycle -------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self.spool.open()
            self.producer = self.producer_factory({**self.config.producer, "error_cb": self._on_error})
            while not self._stop_requested.is_set():
                try:
                    if not self._step():
                        self.producer.poll(0.005)
                except Exception as error:  # a bug must not end delivery for the rest of the process
                    self._survive(error)
            self._finish()
        except Exception as error:  # pragma: no cover - the last line of defence
            print(f"logmonitor handler: sender thread failed: {error!r}", file=sys.stderr)

    def stop(self, timeout: float) -> None:
        """Deliver what is queued within ``timeout`` seconds, spool the rest, and end the thread."""
        self._deadline = time.monotonic() + timeout
        self._stop_requested.set()
        if self.is_alive():
            self.join(timeout + 5.0)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything queued is delivered; False on timeout or while no broker is reachable."""
        deadline = time.monotonic() + timeout
        while self.is_alive() and time.monotonic() < deadline:
            if self._brokers_down and not self.queue and not self._working:
                return False
            if not (self.queue or self._working or self._outstanding or self._spool_inflight or self.spool.count):
                return True
            time.sleep(0.005)
        return False

    def release_after_fork(self) -> None:
        """In a forked child: let go of the parent's spool lock (the child gets a spool of its own)."""
        self.spool.release_lock()

    def _survive(self, error: Exception) -> None:
        """Count an unexpected error of one turn, say so the first time, and go on after a pause."""
        self.internal_errors += 1
        self._working = False
        if self.internal_errors == 1:
            print(f"logmonitor handler: unexpected error in the sender thread, which goes on: {error!r} "
                  "(later ones are only counted)", file=sys.stderr)
        self._stop_requested.wait(0.1)

    def _finish(self) -> None:
        assert self.producer is not None
        while self.queue and time.monotonic() < self._deadline:
            self._step()
        self.spool.append(self._encode_batch(limit=len(self.queue)))
        while (self._outstanding or self._spool_inflight) and time.monotonic() < self._deadline:
            self.producer.poll(0.05)
            self._settle()
        self.producer.purge(in_queue=True, in_flight=True)
        self.producer.poll(0)
        self._settle()
        self.spool.close()

    # --- one turn of the loop ---------------------------------------------------------------

    def _step(self) -> bool:
        """Encode and route one batch; returns False when there was nothing to do."""
        assert self.producer is not None
        self.spool.retry_when_due()
        self.producer.poll(0)
        self._settle()
        self._working = True
        batch = self._encode_batch()
        if self._spilling():
            self.spool.append(batch)
        else:
            for record in batch:
                self._produce(record, from_spool=False)
        self._working = False
        self._evacuate()
        self._drain_spool()
        self._report_drops()
        return bool(batch)

    def _encode_batch(self, limit: int = _ENCODE_BATCH) -> list[SpooledRecord]:
        batch: list[SpooledRecord] = []
        key = self.encoder.service.encode()
        while self.queue and len(batch) < limit:
            captured = self.queue.popleft()
            try:
                value = self.encoder.encode(captured)
            except Exception as error:  # a record we cannot encode must not stop the others
                print(f"logmonitor handler: cannot encode a record: {error!r}", file=sys.stderr)
                continue
            rank = LEVEL_RANK[level_name(captured.record.levelno)]
            batch.append(SpooledRecord(self._order.next(), rank, key, value))
        return batch

    def _spilling(self) -> bool:
        """Whether new records must go to the spool rather than straight to Kafka."""
        assert self.producer is not None
        if self.spool.count > len(self._spool_inflight) or self._kafka_away():
            return True
        return len(self.producer) >= self.config.memory_records

    def _kafka_away(self) -> bool:
        """No broker reachable, or the oldest direct record is overdue."""
        if not self._brokers_down and self._outstanding:
            oldest = next(iter(self._outstanding.values()))
            self._brokers_down = time.monotonic() - oldest > self.config.offline_after
        return self._brokers_down

    def _evacuate(self) -> None:
        """Kafka is away: move what the producer holds in memory to the spool (via purge callbacks)."""
        assert self.producer is not None
        if self._kafka_away() and not self._evacuated and len(self.producer):
            self._evacuated = True
            self.producer.purge(in_queue=True, in_flight=True)
            self.producer.poll(0)
            self._settle()

    def _drain_spool(self) -> None:
        """Send the next chunk of spooled records once the producer's own queue is empty."""
        assert self.producer is not None
        if self._spool_inflight or self._outstanding or self.spool.count == 0:
            return
        for record in self.spool.peek(_DRAIN_CHUNK, after=self._spool_cursor):
            self._produce(record, from_spool=True)
            self._spool_cursor = record.order

    def _produce(self, record: SpooledRecord, *, from_spool: bool) -> None:
        assert self.producer is not None
        callback = partial(self._on_delivery, record, from_spool)
        while True:
            try:
                self.producer.produce(self.config.topic, record.value, record.key, on_delivery=callback,
                                      headers=self._headers)
                break
            except BufferError:  # librdkafka's own queue is full: serve callbacks, retry
                self.producer.poll(0.05)
        if from_spool:
            self._spool_inflight.add(record.order)
        else:
            self._outstanding[record.order] = time.monotonic()

    # --- callbacks (run inside producer.poll on this thread) --------------------------------

    def _on_delivery(self, record: SpooledRecord, from_spool: bool, error: KafkaError | None,
                     _message: Message) -> None:
        if from_spool:
            self._spool_inflight.discard(record.order)
        else:
            self._outstanding.pop(record.order, None)
        if error is None:
            self.delivered += 1
            self._brokers_down = self._evacuated = False
            if from_spool:
                self._spool_done.append(record.order)
        elif error.code() in _TRY_AGAIN_LATER:
            if error.code() not in _PURGED:
                self._brokers_down = True
            if from_spool:
                self._spool_cursor = min(self._spool_cursor, record.order - 1)
            else:
                self._purged.append(record)
        else:  # permanent (too large, not authorized, ...): retrying cannot help
            self.failed += 1
            if from_spool:
                self._spool_done.append(record.order)
            print(f"logmonitor handler: Kafka refused a record: {error.str()}", file=sys.stderr)

    def _on_error(self, error: KafkaError) -> None:
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            if not self._brokers_down:
                print(f"logmonitor handler: no Kafka broker reachable; records are kept in memory, then in "
                      f"{self.spool.directory}, until it returns", file=sys.stderr)
            self._brokers_down = True

    def _settle(self) -> None:
        """Apply delivery outcomes to the spool: delete delivered rows, store purged records."""
        if self._spool_done:
            self.spool.remove(self._spool_done)
            self._spool_done = []
        if self._purged:
            self.spool.append(self._purged)
            self._purged = []
            self._spool_cursor = -1

    def _report_drops(self) -> None:
        dropped = sum(self.spool.dropped.values())
        now = time.monotonic()
        if dropped > self._reported_drops and now - self._last_report >= self.config.report_interval:
            by_level = ", ".join(f"{level} {count}" for level, count in sorted(self.spool.dropped.items()))
            print(f"logmonitor handler: spool full ({self.spool.max_bytes} bytes at {self.spool.directory}); "
                  f"dropped {dropped} records so far ({by_level})", file=sys.stderr)
            self._reported_drops = dropped
            self._last_report = now
