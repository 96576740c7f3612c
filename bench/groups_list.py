"""P11: ``GET /api/v1/logs/groups?limit=50`` at 10,000 and 100,000 error groups, with health latency meanwhile.

    .venv/bin/python -m bench.groups_list [--groups 10000 100000] [--requests 40]

For each size, a fresh worker (``memory://``, 8 partitions) is filled with one error for each of
``services x per_service`` groups (200 services; 50 or 500 kinds of error each: a distinct
exception type per kind), as a busy team would have them. Then, one variant after another, a
client asks for pages one after another (a dashboard that polls as fast as answers come) while
another asks ``/api/v1/health`` every 10 ms; each variant's first request (which may build the
worker's index of the groups) is reported apart from the rest. The last variant sends errors
of existing groups meanwhile (``--churn`` records/s), so every page finds the groups changed.
Starts its own broker and worker on free loopback ports (or uses $KAFKA_BOOTSTRAP_SERVERS).
``--alert-interval 1h`` leaves out the alert rules' evaluation, which reads every group every 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer

from bench.common import broker, healthy_worker
from logmonitor.handler.redaction import REDACTED_HEADER, REDACTION_RULES
from logmonitor.timestamps import iso_timestamp

SERVICES = 200
HEALTH_EVERY = 0.01
VARIANTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("first page", {}), ("q= (matches 200 groups)", {"q": "e0042"}), ("sort=count", {"sort": "count"}),
    ("status=new&service=", {"status": "new", "service": "svc-007"}), ("a later page (after=)", {}),
)


def group_errors(per_service: int, repeat: int = 0) -> Iterator[tuple[bytes, bytes]]:
    """One error record for each group: ``SERVICES`` services times ``per_service`` exception types."""
    now = time.time()
    for kind in range(per_service):
        for index in range(SERVICES):
            service = f"svc-{index:03d}"
            value = {
                "id": uuid.uuid4().hex, "timestamp": iso_timestamp(now), "level": "ERROR", "service": service,
                "host": f"{service}-1", "logger": f"{service}.jobs", "message": f"job {repeat} failed",
                "exception": {"type": f"E{kind:04d}Error", "message": "boom"},
            }
            yield service.encode(), orjson.dumps(value)


async def produce(bootstrap: str, topic: str, values: Iterator[tuple[bytes, bytes]],
                  rate: float | None = None, stop: asyncio.Event | None = None) -> int:
    """Produce ``values`` (as KafkaLogHandler marks them), at most ``rate`` a second; how many were sent."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, compression_type="lz4")
    await producer.start()
    sent, started, pending = 0, time.monotonic(), []
    try:
        for key, value in values:
            if stop is not None and stop.is_set():
                break
            pending.append(await producer.send(topic, value, key=key, headers=[(REDACTED_HEADER, REDACTION_RULES)]))
            sent += 1
            if rate is not None:
                await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


async def wait_for_groups(url: str, total: int, timeout: float = 900) -> float:
    """Seconds until the list counts ``total`` groups."""
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        while time.monotonic() - started < timeout:
            async with session.get(url + "/api/v1/logs/groups?limit=1") as response:
                if response.status == 200 and (await response.json())["total"] >= total:
                    return time.monotonic() - started
            await asyncio.sleep(1.0)
    raise RuntimeError(f"the list did not reach {total} groups in {timeout} s")


async def measure(url: str, params: dict[str, str], requests: int, later_page: bool) -> dict[str, Any]:
    """Page latencies (the first apart) and health latencies while the pages are asked for."""
    pages: list[float] = []
    health: list[float] = []
    done = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        after = None
        if later_page:  # the cursor of page 20, so the measured page starts deep in the order
            for _ in range(20):
                query = {"limit": "50", **({"after": after} if after else {})}
                async with session.get(url + "/api/v1/logs/groups?" + urllib.parse.urlencode(query)) as response:
                    after = (await response.json())["next"]

        async def poll_health() -> None:
            while not done.is_set():
                started = time.perf_counter()
                async with session.get(url + "/api/v1/health") as response:
                    await response.read()
                health.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(HEALTH_EVERY)

        poller = asyncio.ensure_future(poll_health())
        await asyncio.sleep(0.2)
        query = {"limit": "50", **params, **({"after": after} if after else {})}
        target = url + "/api/v1/logs/groups?" + urllib.parse.urlencode(query)
        for _ in range(requests):
            started = time.perf_counter()
            async with session.get(target) as response:
                body = await response.read()
                assert response.status == 200, body[:200]
            pages.append((time.perf_counter() - started) * 1000)
        done.set()
        await poller
    rest = sorted(pages[1:])
    health.sort()
    return {"first": pages[0], "p50": statistics.median(rest), "max": rest[-1],
            "health_p50": statistics.median(health), "health_p99": health[int(len(health) * 0.99) - 1],
            "health_max": health[-1], "health_n": len(health)}


async def measure_with_churn(bootstrap: str, topic: str, url: str, per_service: int, rate: float,
                             requests: int) -> dict[str, Any]:
    """:func:`measure` of the first page while errors of existing groups arrive at ``rate`` a second."""
    stop = asyncio.Event()

    def again() -> Iterator[tuple[bytes, bytes]]:
        repeat = 1
        while True:
            yield from group_errors(per_service, repeat)
            repeat += 1

    feeder = asyncio.ensure_future(produce(bootstrap, topic, again(), rate, stop))
    await asyncio.sleep(3)
    try:
        return await measure(url, {}, requests, later_page=False)
    finally:
        stop.set()
        await feeder


def row(size: int, name: str, figures: dict[str, Any]) -> str:
    return (f"| {size:,} | {name} | {figures['first']:.0f} | {figures['p50']:.1f} | {figures['max']:.1f} | "
            f"{figures['health_p50']:.1f} | {figures['health_p99']:.1f} | {figures['health_max']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=40, help="pages asked for in each variant")
    parser.add_argument("--churn", type=float, default=200, help="errors/s of existing groups in the last variant")
    parser.add_argument("--alert-interval", help="LOGMONITOR_ALERT_INTERVAL of the worker (default: its own, 5s)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-groups-"))
    rows = []
    with broker() as (bootstrap, _local):
        for total in args.groups:
            per_service = total // SERVICES
            alerts = {"LOGMONITOR_ALERT_INTERVAL": args.alert_interval} if args.alert_interval else {}
            with healthy_worker(bootstrap, f"p11-{total}-{uuid.uuid4().hex[:6]}", work,
                                LOGMONITOR_MAX_GROUPS_PER_SERVICE=str(max(1000, per_service)), **alerts) as worker:
                asyncio.run(produce(bootstrap, worker.logs_topic, group_errors(per_service)))
                filled = asyncio.run(wait_for_groups(worker.url, per_service * SERVICES))
                print(f"{per_service * SERVICES:,} groups listed {filled:.0f} s after the last was produced")
                for name, params in VARIANTS:
                    figures = asyncio.run(measure(worker.url, params, args.requests, later_page="after" in name))
                    rows.append(row(total, name, figures))
                    print(rows[-1])
                churn = asyncio.run(measure_with_churn(bootstrap, worker.logs_topic, worker.url, per_service,
                                                       args.churn, max(5, args.requests // 4)))
                rows.append(row(total, f"first page, {args.churn:.0f} errors/s arriving", churn))
                print(rows[-1])
    print(f"\nP11: GET /api/v1/logs/groups?limit=50, {args.requests} pages a variant, one after another, "
          f"health every {HEALTH_EVERY * 1000:.0f} ms meanwhile:")
    print("| groups | page | first ms | p50 ms | max ms | health p50 ms | health p99 ms | health max ms |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
