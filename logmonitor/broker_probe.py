"""Ask a Kafka cluster whether it answers metadata requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

from logmonitor.settings import KafkaSecurity

__all__ = ["answers_metadata", "wait_for_metadata"]


@contextlib.contextmanager
def _quiet_client_logs() -> Iterator[None]:
    """Keep aiokafka's per-attempt connection errors out of the output while polling."""
    client_logger = logging.getLogger("aiokafka")
    level = client_logger.level
    client_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        client_logger.setLevel(level)


async def _probe(bootstrap_servers: str, security: KafkaSecurity, timeout: float) -> bool:
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap_servers,
        request_timeout_ms=max(int(timeout * 1000), 1000),
        **security.aiokafka_options(),
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        return bool(client.cluster.brokers())
    except (KafkaError, OSError, asyncio.TimeoutError):
        return False
    finally:
        await client.close()


def answers_metadata(
    bootstrap_servers: str, security: KafkaSecurity | None = None, timeout: float = 5.0
) -> bool:
    """Return True when the cluster at ``bootstrap_servers`` answers a metadata request."""
    with _quiet_client_logs():
        return asyncio.run(_probe(bootstrap_servers, security or KafkaSecurity(), timeout))


def wait_for_metadata(
    bootstrap_servers: str,
    timeout: float,
    security: KafkaSecurity | None = None,
    still_worth_waiting: Callable[[], bool] | None = None,
) -> bool:
    """Poll until the cluster answers metadata requests or ``timeout`` seconds pass.

    Args:
        bootstrap_servers: ``host:port[,host:port]``.
        timeout: seconds to wait in all.
        security: TLS/SASL settings; plaintext when omitted.
        still_worth_waiting: optional callable; when it returns False the wait ends early
            (e.g. the broker process died).

    Returns:
        Whether the cluster answered in time.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if still_worth_waiting is not None and not still_worth_waiting():
            return False
        if answers_metadata(bootstrap_servers, security, timeout=2.0):
            return True
        time.sleep(0.25)
    return False
