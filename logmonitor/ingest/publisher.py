"""Hand a request's records to Kafka and answer only once Kafka acknowledged every one of them.

The promise the ingest server makes (as Vector's end-to-end acknowledgements): a 2xx means
each record of the request is on the logs topic (or, rejected, on the dead-letter topic) with
``acks=all``. When Kafka does not acknowledge in time the request fails as a whole, the client
sends it again, and records that did get through are there twice: each has its own ``id``, so
that is a duplicate the reader can see, never a loss.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiokafka.errors import KafkaError

from logmonitor.ingest.decoded import Decoded, Rejected
from logmonitor.ingest.metrics import BYTES_IN_FLIGHT, PRODUCE_SECONDS, RECORDS_ACCEPTED, RECORDS_REJECTED, reason_code
from logmonitor.pipeline.dead_letter import dead_letter_from
from logmonitor.pipeline.record_ready import FOREIGN_REDACTOR

__all__ = ["InFlight", "KafkaUnavailable", "Producer", "Publisher"]


class KafkaUnavailable(RuntimeError):
    """Kafka did not acknowledge every record of a request in time (or refused one)."""


class Producer(Protocol):
    """What the publisher needs of aiokafka's ``AIOKafkaProducer`` (a fake in unit tests)."""

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> Awaitable[object]:
        """Queue one record; the awaitable settles when Kafka acknowledged it or gave up."""


class InFlight:
    """The bytes of the requests being served, bounded: past the bound a request is refused, not queued.

    Thread-safe: decoders, which run in the executor, hold what they decode as they go.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._lock = threading.Lock()

    @property
    def full(self) -> bool:
        """Whether nothing more may be taken now."""
        return self.held >= self.limit

    def try_take(self, size: int, own: int = 0) -> bool:
        """Hold ``size`` more bytes for a request that holds ``own`` already, if they fit; False if not.

        A request alone always fits, however large (within the body limit).
        """
        with self._lock:
            if self.held > own and self.held + size > self.limit:
                return False
            self.held += size
            BYTES_IN_FLIGHT.set(self.held)
            return True

    def give_back(self, size: int) -> None:
        """Release what :meth:`try_take` held."""
        with self._lock:
            self.held -= size
            BYTES_IN_FLIGHT.set(self.held)


class Publisher:
    """Produces decoded requests to the logs topic (rejected records to the dead-letter topic)."""

    def __init__(self, producer: Producer, logs_topic: str, dlq_topic: str, timeout: float) -> None:
        self.producer = producer
        self.logs_topic = logs_topic
        self.dlq_topic = dlq_topic
        self.timeout = timeout

    async def publish(self, decoded: Decoded, source: dict[str, object], route: str,
                      release: Callable[[], None]) -> None:
        """Return once Kafka acknowledged every record of ``decoded``.

        Args:
            decoded: the request's records and rejected records.
            source: where the request came from, for the dead letters.
            route: the route, for the metrics.
            release: called once every record handed to the producer settled (acknowledged or given
                up), which may be after a timeout: until then the producer holds them.

        Raises:
            KafkaUnavailable: Kafka did not acknowledge all of them within the timeout, or refused one.
        """
        started = time.monotonic()
        acknowledgements: list[Awaitable[object]] = []
        settled: list[asyncio.Future[list[object]]] = []
        try:
            letters = await _dead_letters(decoded.rejected, source)
            results = await asyncio.wait_for(self._send_all(decoded, letters, acknowledgements, settled, release),
                                             self.timeout)
        except (asyncio.TimeoutError, KafkaError) as error:
            raise KafkaUnavailable(f"Kafka did not acknowledge within {self.timeout:g} s ({error!r})") from error
        finally:
            if not settled:  # interrupted while handing records over: release once those settle
                _settle(acknowledgements, release)
        if (failure := next((r for r in results if isinstance(r, BaseException)), None)) is not None:
            raise KafkaUnavailable(f"Kafka refused a record: {failure!r}") from failure
        PRODUCE_SECONDS.observe(time.monotonic() - started)
        RECORDS_ACCEPTED.labels(route).inc(len(decoded.records))
        for rejected in decoded.rejected:
            RECORDS_REJECTED.labels(reason_code(rejected.reason)).inc()

    async def _send_all(self, decoded: Decoded, letters: list[bytes], acknowledgements: list[Awaitable[object]],
                        settled: list[asyncio.Future[list[object]]], release: Callable[[], None]) -> list[object]:
        for service, value in decoded.records:
            acknowledgements.append(await self.producer.send(self.logs_topic, value, key=service.encode()))
        for letter in letters:
            acknowledgements.append(await self.producer.send(self.dlq_topic, letter))
        settled.append(_settle(acknowledgements, release))
        # Shielded: a timeout ends the request's wait, not the watch that releases the bytes.
        return await asyncio.shield(settled[0])


async def _dead_letters(rejected: list[Rejected], source: dict[str, object]) -> list[bytes]:
    """The rejected records' dead letters, made off the event loop: each is redacted (no handler did it), up to
    64 KiB of text at ~20 ms for the worst, so a body of them would hold the loop for seconds."""
    if not rejected:
        return []
    return await asyncio.get_running_loop().run_in_executor(None, lambda: [
        dead_letter_from(record.raw, record.reason, source, FOREIGN_REDACTOR) for record in rejected])


def _settle(acknowledgements: list[Awaitable[object]], release: Callable[[], None]) -> asyncio.Future[list[object]]:
    """One future of all ``acknowledgements`` (failures as values) that calls ``release`` when done."""
    together = asyncio.gather(*acknowledgements, return_exceptions=True)
    together.add_done_callback(lambda _: release())
    return together
