"""P4: ``/api/v1/logs/stats`` and a Grafana ``/query`` under load while the worker ingests 5,000 logs/s.

    .venv/bin/python -m bench.api [--ingest 5000] [--seconds 20] [--connections 32]

Baseline in the same run: ``/api/v1/health`` (the web server's floor, no table reads).
The load generator is an aiohttp client in this process, on the same 2 cores as the worker
and the broker. Starts its own broker and worker on free loopback ports (or uses
$KAFKA_BOOTSTRAP_SERVERS for the broker).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaProducer

from bench.common import broker, healthy_worker, records
from logmonitor.timestamps import iso_timestamp


async def ingest(bootstrap: str, topic: str, rate: float, stop: threading.Event, progress: dict[str, int]) -> int:
    """Produce ``rate`` records/s until ``stop``; ``progress["sent"]`` follows along; returns how many."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, compression_type="lz4")
    await producer.start()
    sent = 0
    started = time.monotonic()
    try:
        source = records(10_000_000)
        while not stop.is_set():
            due = int((time.monotonic() - started) * rate)
            while sent < due:
                key, value = next(source)
                await producer.send(topic, value, key=key)
                sent += 1
            progress["sent"] = sent
            await asyncio.sleep(0.005)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def grafana_body() -> dict[str, Any]:
    now = time.time()
    return {"range": {"from": iso_timestamp(now - 3600), "to": iso_timestamp(now)}, "intervalMs": 60_000,
            "maxDataPoints": 1000, "targets": [{"refId": "A", "target": "error_by_service", "payload": {}}]}


async def hammer(url: str, method: str, body: Any, seconds: float, connections: int,
                 rate: float) -> tuple[float, float, float]:
    """Requests/s, p50 ms and p99 ms with ``connections`` clients offering ``rate`` req/s (0: as fast as they can)."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        began, sent = time.monotonic(), 0
        while time.monotonic() < deadline:
            if rate:
                await asyncio.sleep(max(0.0, began + (sent * connections + index) / rate - time.monotonic()))
                sent += 1
            started = time.perf_counter()
            async with session.request(method, url, json=body) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.monotonic()
        await asyncio.gather(*(client(session, index) for index in range(connections)))
        elapsed = time.monotonic() - began
    latencies.sort()
    return len(latencies) / elapsed, statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingest", type=float, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=1000, help="offered req/s per endpoint (0: unthrottled)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    with broker() as (bootstrap, _local), healthy_worker(bootstrap, "p4", work) as worker:
        stop = threading.Event()
        counted: list[int] = []
        progress = {"sent": 0}
        feeder = threading.Thread(target=lambda: counted.append(
            asyncio.run(ingest(bootstrap, worker.logs_topic, args.ingest, stop, progress))))
        feeder.start()
        try:
            time.sleep(5)
            rows = []
            for name, method, path, body in (
                ("GET /api/v1/health (baseline)", "GET", "/api/v1/health", None),
                ("GET /api/v1/logs/stats", "GET", "/api/v1/logs/stats", None),
                ("POST /api/v1/grafana/query", "POST", "/api/v1/grafana/query", grafana_body()),
            ):
                figures = asyncio.run(hammer(worker.url + path, method, body, args.seconds, args.connections,
                                             args.rate))
                time.sleep(1.1)  # /stats answers are up to 1 s old
                lag = progress["sent"] - worker.get("/api/v1/logs/stats")["total_logs"]
                rows.append((name, *figures, lag))
        finally:
            stop.set()
            feeder.join()
            stats = worker.get("/api/v1/logs/stats")
    base = rows[0][1]
    offered = f"{args.rate:,.0f} req/s offered" if args.rate else "unthrottled"
    print(f"\nP4 while ingesting {args.ingest:,.0f} logs/s ({counted[0]:,} produced, "
          f"{stats['total_logs'] if stats else '?':,} counted at the end), {args.connections} connections, "
          f"{offered}, {args.seconds:.0f} s each:")
    print("| endpoint | req/s | p50 ms | p99 ms | req/s vs baseline | ingest lag after (records) |")
    print("|---|---|---|---|---|---|")
    for name, rate, p50, p99, lag in rows:
        print(f"| {name} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {rate / base:.2f}x | {lag:,} |")


if __name__ == "__main__":
    main()
