"""P1: the cost of one ``logger.error()`` call with KafkaLogHandler, against its baselines, in one run.

Baselines measured in the same run: stdlib ``logging.FileHandler`` writing the same JSON (built
by the same encoder, on the caller's thread) and the PyPI handler ``kafka-logging-handler``
(kafka-python, flushes on the caller's thread). Each with Kafka up and, for the Kafka handlers,
with Kafka down. KafkaLogHandler with breadcrumbs on (the default: every call is an error that
takes the 30 before it) and off; and a DEBUG line below ``ship_level``, kept only as a
breadcrumb. Also records/s delivered to the broker, with breadcrumbs on and off.

    .venv/bin/python -m bench.handler [--calls 20000]

Starts its own broker on free loopback ports (or uses $KAFKA_BOOTSTRAP_SERVERS), stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import broker, create_topics
from logmonitor.handler import KafkaLogHandler
from logmonitor.handler.context import current_context
from logmonitor.handler.encoding import Captured, RecordEncoder
from logmonitor.handler.redaction import Redactor

PEER_DOWN_CALL_LIMIT = 300
PEER_DOWN_SECONDS = 60.0


class SameJsonFormatter(logging.Formatter):
    """The baseline: the very JSON KafkaLogHandler sends, built on the caller's thread."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = RecordEncoder("bench", "bench-host", Redactor())

    def format(self, record: logging.LogRecord) -> str:
        return self.encoder.encode(Captured(record, record.getMessage(), current_context())).decode()


def per_call_costs(handler: logging.Handler, calls: int, time_limit: float = 120.0,
                   level: int = logging.ERROR) -> list[float]:
    """Microseconds per ``logger.error()`` call (or a call at ``level``), one figure per call."""
    log = logging.getLogger(f"bench.{id(handler)}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    costs: list[float] = []
    deadline = time.monotonic() + time_limit
    try:
        for i in range(calls):
            started = time.perf_counter_ns()
            log.log(level, "payment %d failed for order %s", i, "o-123", extra={"amount": 12.5})
            costs.append((time.perf_counter_ns() - started) / 1000)
            if time.monotonic() > deadline:
                break
    finally:
        log.removeHandler(handler)
    return costs


def summary(costs: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max of ``costs``."""
    ordered = sorted(costs)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1], ordered[-1]


def peer_handler(bootstrap: str, topic: str) -> Any:
    """The PyPI peer's handler (``kafka-logging-handler``, untyped): a ``logging.Handler`` with ``enabled``."""
    from kafka_logger.handlers import KafkaLoggingHandler  # type: ignore[import-untyped]

    return KafkaLoggingHandler(
        bootstrap, topic, security_protocol="PLAINTEXT", flush_buffer_size=100,
        kafka_producer_args={"max_block_ms": 5000, "request_timeout_ms": 5000, "delivery_timeout_ms": 10000},
    )


def delivered_per_second(bootstrap: str, topic: str, spool: Path, records: int, **options: Any) -> float:
    handler = KafkaLogHandler(bootstrap, service="bench", topic=topic, spool_dir=spool, **options)
    log = logging.getLogger("bench.throughput")
    log.propagate = False
    log.addHandler(handler)
    started = time.perf_counter()
    for i in range(records):
        log.error("payment %d failed", i)
    handler.flush(120)
    elapsed = time.perf_counter() - started
    delivered = handler.delivered
    log.removeHandler(handler)
    handler.close()
    return delivered / elapsed


def client_send_costs(bootstrap: str, topic: str, count: int = 50_000) -> dict[str, float]:
    """How the handler's client was chosen: µs per send on the sending thread and records/s delivered."""
    from aiokafka import AIOKafkaProducer
    from confluent_kafka import Producer

    value = b'{"level": "ERROR", "message": "payment failed"}'
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 5, "compression.type": "lz4"})
    started = time.perf_counter()
    for _ in range(count):
        producer.produce(topic, value, b"bench")
        producer.poll(0)
    sent = time.perf_counter()
    producer.flush(60)
    figures = {"confluent-kafka us/send": (sent - started) / count * 1e6,
               "confluent-kafka records/s": count / (time.perf_counter() - started)}

    async def aiokafka_run() -> None:
        client = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5,
                                  compression_type="lz4")
        await client.start()
        began = time.perf_counter()
        futures = [await client.send(topic, value, key=b"bench") for _ in range(count)]
        queued = time.perf_counter()
        await asyncio.gather(*futures)
        figures["aiokafka us/send"] = (queued - began) / count * 1e6
        figures["aiokafka records/s"] = count / (time.perf_counter() - began)
        await client.stop()

    asyncio.run(aiokafka_run())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--throughput-records", type=int, default=200_000)
    args = parser.parse_args()
    rows: list[tuple[str, list[float]]] = []
    work = Path(tempfile.mkdtemp(prefix="bench-handler-"))
    run: Callable[[str, logging.Handler, int], None] = lambda name, handler, calls: rows.append(  # noqa: E731
        (name, per_call_costs(handler, calls)))

    file_handler = logging.FileHandler(work / "same.json.log")
    file_handler.setFormatter(SameJsonFormatter())
    run("FileHandler, same JSON (baseline)", file_handler, args.calls)
    file_handler.close()

    with broker() as (bootstrap, local):
        asyncio.run(create_topics(bootstrap, 4, "bench-logs"))
        plain = KafkaLogHandler(bootstrap, service="bench", topic="bench-logs", spool_dir=work / "spool-plain",
                                breadcrumbs=0)
        run("KafkaLogHandler, Kafka up, breadcrumbs off", plain, args.calls)
        plain.close()
        ours = KafkaLogHandler(bootstrap, service="bench", topic="bench-logs", spool_dir=work / "spool-up")
        run("KafkaLogHandler, Kafka up, breadcrumbs on", ours, args.calls)
        crumbs_only = KafkaLogHandler(bootstrap, service="bench", topic="bench-logs", spool_dir=work / "spool-debug",
                                      level=logging.DEBUG, ship_level=logging.INFO)
        rows.append(("KafkaLogHandler, a DEBUG line kept only as a breadcrumb",
                     per_call_costs(crumbs_only, args.calls, level=logging.DEBUG)))
        crumbs_only.close()
        peer = peer_handler(bootstrap, "bench-logs")
        run("kafka-logging-handler, Kafka up", peer, args.calls)
        rates = {f"breadcrumbs {state}": delivered_per_second(
            bootstrap, "bench-logs", work / f"spool-rate-{state}", args.throughput_records,
            breadcrumbs=30 if state == "on" else 0) for state in ("off", "on")}
        clients = client_send_costs(bootstrap, "bench-logs")
        if local is not None:
            local.stop()
            run("KafkaLogHandler, Kafka down, breadcrumbs on", ours, args.calls)
            rows.append(("kafka-logging-handler, Kafka down",
                         per_call_costs(peer, PEER_DOWN_CALL_LIMIT, time_limit=PEER_DOWN_SECONDS)))
            peer.enabled = False  # its exit hook would block on the stopped broker again
        ours.close()

    base = statistics.median(rows[0][1])
    print(f"\nP1, {args.calls} calls each (Python {sys.version.split()[0]}, {os.cpu_count()} cores)\n")
    print("| handler | calls | p50 µs | p99 µs | max µs | p50 / baseline |")
    print("|---|---|---|---|---|---|")
    for name, costs in rows:
        p50, p99, worst = summary(costs)
        print(f"| {name} | {len(costs)} | {p50:.1f} | {p99:.1f} | {worst:.0f} | {p50 / base:.2f}x |")
    print(f"\nKafkaLogHandler delivered, {args.throughput_records} errors, emit to last acknowledgement: " + ", ".join(
        f"{state} {rate:,.0f} records/s" for state, rate in rates.items()))
    print("Client choice, 50,000 sends of one small record: " + ", ".join(
        f"{name} {value:,.1f}" for name, value in clients.items()))


if __name__ == "__main__":
    main()
