"""Print a topic's records to stdout: the project's kafka-console-consumer."""

from __future__ import annotations

import asyncio
import sys

from aiokafka import AIOKafkaConsumer

from logmonitor.settings import KafkaSecurity

__all__ = ["print_topic"]


async def _print(
    bootstrap_servers: str, topic: str, from_beginning: bool,
    max_messages: int | None, idle_timeout: float | None,
) -> int:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        **KafkaSecurity.from_env().aiokafka_options(),
    )
    await consumer.start()
    printed = 0
    try:
        while max_messages is None or printed < max_messages:
            timeout_ms = int(idle_timeout * 1000) if idle_timeout else 1000
            batches = await consumer.getmany(timeout_ms=timeout_ms)
            if not batches and idle_timeout:
                break
            for records in batches.values():
                for record in records:
                    key = record.key.decode(errors="replace") if record.key else ""
                    value = record.value.decode(errors="replace") if record.value else ""
                    sys.stdout.write(f"{key}\t{value}\n")
                    printed += 1
            sys.stdout.flush()
    finally:
        await consumer.stop()
    return printed


def print_topic(
    bootstrap_servers: str,
    topic: str,
    *,
    from_beginning: bool = False,
    max_messages: int | None = None,
    idle_timeout: float | None = None,
) -> int:
    """Print ``key<TAB>value`` lines of ``topic`` until stopped, ``max_messages`` or idle.

    Returns:
        How many records were printed.
    """
    return asyncio.run(_print(bootstrap_servers, topic, from_beginning, max_messages, idle_timeout))
