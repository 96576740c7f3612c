"""P8: the worker's event-loop lag and health latency while hostile requests are served.

    .venv/bin/python -m bench.hostile [--seconds 30] [--connections 8] [--services 150] [--only requests|declared]

Two phases on one worker, the same length and concurrency: the baseline sends a dashboard's
ordinary Grafana query (one hour, per-minute points); the hostile phase cycles through the
nastiest requests of DESIGN §6 (catastrophic user regexes, ranges over all time with 1 ms
intervals, 50 targets with a billion points asked for, times far out of range, a 256-character
``q``). A poller asks ``/api/v1/health`` every 0.1 s throughout. Lag figures come from the
worker's own ``logmonitor_event_loop_lag_seconds`` histogram (the difference over each phase,
so p99 is the bucket bound it falls in). Then R13 (``bench/declared_bodies.py``): bodies that
declare millions of records, to an ingest server and as a batch on the worker's logs topic, with the
CPU and memory each cost. Starts its own broker and worker on loopback (or uses
$KAFKA_BOOTSTRAP_SERVERS for the broker).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from bench import declared_bodies
from bench.api import grafana_body
from bench.common import Worker, broker, healthy_worker
from logmonitor.timestamps import iso_timestamp

CATASTROPHIC = {"key": "service", "operator": "=~", "value": "(.*.*)*Y"}
DAY_MS = 24 * 3600 * 1000
Request = tuple[str, str, Any]  # method, path, JSON body
HOSTILE_NAMES = ("10 catastrophic regex filters", "all time, 1 ms interval, 1e9 points",
                 "50 targets x 7 days, 1e9 points", "150 series x 24 h, 600 points", "range to 1e300",
                 "annotations over all time", "since year 1 (+14:00)", "q of 256 characters, limit 1000")


def hostile_requests() -> list[Request]:
    """The nastiest requests a Grafana viewer or an API client can send (each answered 200 or 400)."""
    now = int(time.time() * 1000)
    whole = {"from": 0, "to": "9999-12-31T23:59:59Z"}

    def query(*targets: str, **extra: Any) -> dict[str, Any]:
        return {"range": {"from": now - 3600_000, "to": now}, "intervalMs": 60_000, "maxDataPoints": 1000,
                "targets": [{"target": target, "refId": chr(65 + i)} for i, target in enumerate(targets)], **extra}

    return [
        ("POST", "/api/v1/grafana/query", query("error_by_service", "error_count", adhocFilters=[CATASTROPHIC] * 10)),
        ("POST", "/api/v1/grafana/query", query("error_by_service", "log_volume", range=whole, intervalMs=1,
                                                maxDataPoints=1e9)),
        ("POST", "/api/v1/grafana/query", query(*["error_by_service"] * 50, maxDataPoints=1e9, intervalMs=1,
                                                range={"from": now - 7 * DAY_MS, "to": now})),
        ("POST", "/api/v1/grafana/query", query("error_by_service", "error_rate", maxDataPoints=600,
                                                range={"from": now - DAY_MS, "to": now})),
        ("POST", "/api/v1/grafana/query", {"range": {"from": 0, "to": 1e300}, "targets": [{"target": "error_count"}]}),
        ("POST", "/api/v1/grafana/annotations", {"range": whole, "annotation": {"query": ""}}),
        ("GET", "/api/v1/logs/errors?" + urllib.parse.urlencode({"since": "0001-01-01T00:00:00+14:00"}), None),
        ("GET", "/api/v1/logs/errors?" + urllib.parse.urlencode({"q": "(.*.*)*Y" * 32, "limit": "1000"}), None),
    ]


async def load(bootstrap: str, topic: str, services: int, per_service: int) -> int:
    """``per_service`` records (a fifth of them errors) for each of ``services`` services, spread over a day."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, compression_type="lz4")
    await producer.start()
    now, sent = time.time(), 0
    try:
        for i in range(services * per_service):
            service = f"hostile-service-{i % services:03}-eu-west-1"
            value = {"timestamp": iso_timestamp(now - (i % 1440) * 60), "service": service, "host": "h",
                     "level": "ERROR" if i % 5 == 0 else "INFO", "message": f"disk {i % 7} full", "logger": "l"}
            await producer.send(topic, orjson.dumps(value), key=service.encode())
            sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def lag_buckets(worker: Worker) -> dict[float, float]:
    """The lag histogram's cumulative bucket counts, by upper bound."""
    with urllib.request.urlopen(worker.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return {float(sample.labels["le"]): sample.value for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == "logmonitor_event_loop_lag_seconds_bucket"}


def quantile_bound(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The upper bound of the bucket the ``q`` quantile of the samples between two scrapes falls in."""
    bounds = sorted(after)
    total = after[bounds[-1]] - before.get(bounds[-1], 0)
    return next(bound for bound in bounds if after[bound] - before.get(bound, 0) >= q * total)


async def phase(url: str, requests: Callable[[], list[Request]], seconds: float,
                connections: int) -> tuple[dict[str, float], dict[int, tuple[set[int], list[float]]]]:
    """Send ``requests()`` round-robin from ``connections`` clients while polling health; the figures."""
    deadline = time.monotonic() + seconds
    statuses: dict[int, int] = {}
    health: list[float] = []
    by_request: dict[int, list[float]] = {}
    answers: dict[int, set[int]] = {}

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        sent = index
        while time.monotonic() < deadline:
            batch = requests()
            which = sent % len(batch)
            method, path, body = batch[which]
            sent += 1
            started = time.perf_counter()
            async with session.request(method, url + path, json=body) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            by_request.setdefault(which, []).append(time.perf_counter() - started)
            answers.setdefault(which, set()).add(response.status)

    async def poll(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.get(url + "/api/v1/health") as response:
                await response.read()
            health.append(time.perf_counter() - started)
            await asyncio.sleep(0.1)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session, \
            aiohttp.ClientSession() as health_session:
        await asyncio.gather(poll(health_session), *(client(session, i) for i in range(connections)))
    health.sort()
    figures = {"requests": sum(statuses.values()), "server_errors": sum(n for s, n in statuses.items() if s >= 500),
               "health_p99": health[int(len(health) * 0.99) - 1], "health_max": health[-1]}
    return figures, {which: (answers[which], latencies) for which, latencies in by_request.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--services", type=int, default=150)
    parser.add_argument("--per-service", type=int, default=400)
    parser.add_argument("--only", choices=("requests", "declared"), help="run only P8's requests or R13's bodies")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    with broker() as (bootstrap, _local), healthy_worker(bootstrap, "p8", work) as worker:
        if args.only != "requests":
            declared_bodies.print_rows([*declared_bodies.ingest_rows(worker, work), declared_bodies.kafka_row(worker)])
        if args.only == "declared":
            return
        total = asyncio.run(load(bootstrap, worker.logs_topic, args.services, args.per_service))
        worker.wait_routed(total)
        rows = []
        for name, requests in (("baseline: a dashboard's Grafana query", lambda: [("POST", "/api/v1/grafana/query",
                                                                                 grafana_body())]),
                               ("hostile requests (DESIGN §6)", hostile_requests)):
            before = lag_buckets(worker)
            figures, by_request = asyncio.run(phase(worker.url, requests, args.seconds, args.connections))
            after = lag_buckets(worker)
            rows.append((name, figures, quantile_bound(before, after, 0.5), quantile_bound(before, after, 0.99)))
    print(f"\nP8: {total:,} records of {args.services} services; {args.connections} connections, "
          f"{args.seconds:.0f} s a phase; health polled every 0.1 s:")
    print("| phase | requests | 5xx | health p99 ms | health max ms | loop lag p50 <= ms | loop lag p99 <= ms |")
    print("|---|---|---|---|---|---|---|")
    for name, figures, p50, p99 in rows:
        print(f"| {name} | {figures['requests']:,.0f} | {figures['server_errors']:.0f} | "
              f"{figures['health_p99'] * 1000:.1f} | {figures['health_max'] * 1000:.1f} | {p50 * 1000:g} | "
              f"{p99 * 1000:g} |")
    base, hostile = rows[0][1]["health_max"], rows[1][1]["health_max"]
    print(f"health max, hostile vs baseline: {hostile / base:.2f}x")
    print(f"\nHostile requests ({args.connections} connections: a latency includes the wait for the others):")
    print("| request | answers | sent | p50 ms | max ms |")
    print("|---|---|---|---|---|")
    for which, (statuses, latencies) in sorted(by_request.items()):  # the last phase's: the hostile one
        latencies.sort()
        print(f"| {HOSTILE_NAMES[which]} | {', '.join(map(str, sorted(statuses)))} | {len(latencies)} | "
              f"{latencies[len(latencies) // 2] * 1000:.1f} | {latencies[-1] * 1000:.1f} |")


if __name__ == "__main__":
    main()
