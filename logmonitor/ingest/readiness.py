"""Whether the ingest server can deliver now: Kafka answers its producer (``GET /ready``).

``/health`` says the process serves; a load balancer also needs to know when requests would only
get 503, to send them to an instance that can deliver. Asking Kafka per request would put a
broker round trip on every health check, so a background task asks every ``CHECK_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka.errors import KafkaError

__all__ = ["CHECK_SECONDS", "PROBE_SECONDS", "Readiness"]

logger = logging.getLogger(__name__)

# A broker that went away is seen within CHECK_SECONDS + PROBE_SECONDS (3.5 s, under the 5 s promised).
CHECK_SECONDS = 1.0
PROBE_SECONDS = 2.5


class Readiness:
    """Kafka's reachability as the producer's client sees it, kept current by :meth:`watch`."""

    def __init__(self, probe: Callable[[], Awaitable[object]]) -> None:
        self._probe = probe
        self.ready = True  # the server starts only once Kafka answered
        self.reason = ""

    async def check(self) -> bool:
        """Ask Kafka once; note and return whether it answered within ``PROBE_SECONDS``."""
        try:
            await asyncio.wait_for(self._probe(), PROBE_SECONDS)
        except (KafkaError, OSError, asyncio.TimeoutError) as error:
            reason = type(error).__name__
        else:
            reason = ""
        if bool(reason) == self.ready:  # a change: one line each way, not one per check
            if reason:
                logger.warning("Kafka does not answer the producer (%s): /ready answers 503", reason)
            else:
                logger.warning("Kafka answers the producer again: /ready answers 200")
        self.ready, self.reason = not reason, reason
        return self.ready

    async def watch(self) -> None:
        """Check every ``CHECK_SECONDS`` until cancelled."""
        while True:
            await self.check()
            await asyncio.sleep(CHECK_SECONDS)
