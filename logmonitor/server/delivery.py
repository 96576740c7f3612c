"""Delivering what the router writes, or stopping the worker before a commit passes it.

The consumer commits a source offset once the producer's ``flush`` returns; Faust's waits for
the hand-over to Kafka, not for the outcome, so a message Kafka refused (``max.message.bytes``,
an ACL, a policy; aiokafka retries only the transient errors itself) was committed past and what
it carried was lost. Here (with the seam's ``engine/checked_producer.py``) ``flush`` returns once
every message handed over before it has its final outcome, and a message the router depends on
is never given up while the worker goes on:

- forwarded errors and dead letters (append-only; readers de-duplicate by id) are sent again
  after ``RETRY_DELAYS``, so a refusal fixed within them costs nothing;
- a changelog message is not sent again: a copy sent late could land after a newer value of its
  key and roll the table back on recovery (aiokafka's own retries keep each partition's order);
- a message still refused stops the process at once (status ``EXIT_REFUSED``), without the
  graceful stop, whose producer flush would deliver writes queued behind the refused one (a
  service profile behind the ring chunk it counts). Nothing is committed past it: a restart
  resumes from the last committed offset, and the router writes the replayed records' effects
  again (``agents/router.py``).

``logmonitor_send_failures_total{topic}`` counts every refused attempt,
``logmonitor_writes_refused_total{topic}`` the messages given up; one error line says what to do.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Collection
from functools import partial

from aiokafka.structs import RecordMetadata

from logmonitor.metrics import SEND_FAILURES, WRITES_REFUSED

__all__ = ["EXIT_REFUSED", "RETRY_DELAYS", "Deliveries", "Delivery", "HandOver", "WriteRefused"]

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)  # seconds before each new attempt: 15.5 s in all
EXIT_REFUSED = os.EX_TEMPFAIL  # 75: start again once the topic accepts the write
Delivery = asyncio.Future[RecordMetadata]
HandOver = Callable[[], Awaitable[Delivery]]  # hands the same message to Kafka again


class WriteRefused(RuntimeError):
    """Kafka refused a message the router depends on, after every retry."""


def _exit_now(status: int) -> None:
    # Runs in the refused message's delivery callback, before aiokafka's sender can take the next
    # batch of that partition: nothing queued behind the refused message leaves the process.
    logging.shutdown()  # the error line must reach the operator
    os._exit(status)


class Deliveries:
    """Every message handed over, until its outcome is final: delivered, or refused after the retries."""

    def __init__(self, stop: Callable[[int], object] = _exit_now, delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self._stop, self._delays = stop, delays
        self.retried: frozenset[str] = frozenset()  # topics whose refused messages are sent again
        self.essential: frozenset[str] = frozenset()  # topics whose lost messages stop the worker
        self._handed_over = 0
        self._unsettled: dict[int, None] = {}  # hand-over numbers without a final outcome, in order
        self._outcome = asyncio.Event()
        self._retrying: dict[str, int] = {}  # by topic: messages waiting to be sent again
        self._tasks: set[asyncio.Task[None]] = set()
        self.refused: WriteRefused | None = None

    def guard(self, retried: Collection[str], stopping: Collection[str]) -> None:
        """Send refused messages of ``retried`` again; stop the worker when one of those or of ``stopping`` is lost."""
        self.retried, self.essential = frozenset(retried), frozenset(retried) | frozenset(stopping)

    def track(self, topic: str, delivery: Delivery, hand_over: HandOver) -> None:
        """Follow a message just handed over (``delivery``) to its final outcome."""
        number = self._handed_over
        self._handed_over += 1
        self._unsettled[number] = None
        delivery.add_done_callback(partial(self._on_outcome, number, topic, hand_over, 0))

    async def settled(self) -> None:
        """Return once every message handed over before the call has its final outcome.

        Raises:
            WriteRefused: one of them (or an earlier one) was refused for good.
        """
        up_to = self._handed_over
        while self.refused is None and next(iter(self._unsettled), up_to) < up_to:
            self._outcome.clear()
            await self._outcome.wait()
        if self.refused is not None:
            raise self.refused

    def _on_outcome(self, number: int, topic: str, hand_over: HandOver, attempt: int, delivery: Delivery) -> None:
        failure = asyncio.CancelledError() if delivery.cancelled() else delivery.exception()
        if attempt:
            self._retrying[topic] -= 1
        if failure is None:
            self._settle(number)
            return
        SEND_FAILURES.labels(topic).inc()
        if topic in self.retried and attempt < len(self._delays):
            if not attempt and not self._retrying.get(topic):
                log.warning("Kafka did not accept a message for %s (%r); sending it again for up to %.1f s",
                            topic, failure, sum(self._delays))
            self._retrying[topic] = self._retrying.get(topic, 0) + 1
            task = asyncio.get_running_loop().create_task(self._resend(number, topic, hand_over, attempt + 1))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif topic in self.essential:
            self._refuse(topic, failure, attempt + 1)
        else:
            log.error("a message for %s was not delivered, what it carried is missing: %r", topic, failure)
            self._settle(number)

    def _settle(self, number: int) -> None:
        del self._unsettled[number]
        self._outcome.set()

    async def _resend(self, number: int, topic: str, hand_over: HandOver, attempt: int) -> None:
        await asyncio.sleep(self._delays[attempt - 1])
        try:
            delivery = await hand_over()
        except Exception as failure:  # the hand-over itself failed: one more failed attempt
            delivery = asyncio.get_running_loop().create_future()
            delivery.set_exception(failure)
        delivery.add_done_callback(partial(self._on_outcome, number, topic, hand_over, attempt))

    def _refuse(self, topic: str, failure: BaseException, attempts: int) -> None:
        WRITES_REFUSED.labels(topic).inc()
        if self.refused is None:
            self.refused = WriteRefused(f"Kafka refused a write to {topic} ({attempts} attempts): {failure!r}")
            log.error("%s; stopping the worker (exit status %d) without committing past it: make the topic accept "
                      "it (max.message.bytes, ACLs, policies) and start the worker again, it resumes from the last "
                      "committed offset", self.refused, EXIT_REFUSED)
            self._stop(EXIT_REFUSED)
        self._outcome.set()

