"""P3: ``logger.error()`` to visible in ``/api/v1/logs/errors`` and on the SSE stream, at 1,000 logs/s.

    .venv/bin/python -m bench.latency [--rate 1000] [--seconds 30]

A service in this process logs through KafkaLogHandler at ``--rate`` records/s (5% errors,
each error carrying a probe number); one task reads ``/api/v1/logs/stream`` and another polls
``/api/v1/logs/errors`` every 20 ms, noting when each probe first appears. Starts its own
broker and worker on free loopback ports (or uses $KAFKA_BOOTSTRAP_SERVERS for the broker).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import orjson

from bench.common import Worker, broker, healthy_worker
from logmonitor.handler import KafkaLogHandler

POLL_SECONDS = 0.02
PROBE = "latency probe "


def log_steadily(handler: KafkaLogHandler, rate: float, seconds: float, sent: dict[int, float]) -> None:
    """Log ``rate`` records/s for ``seconds``; every 20th is an ERROR probe whose send time is noted."""
    log = logging.getLogger("bench.latency")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    started = time.monotonic()
    i = 0
    while time.monotonic() - started < seconds:
        if i % 20 == 0:
            probe = i // 20
            sent[probe] = time.time()
            log.error("%s%d", PROBE, probe)
        else:
            log.info("request %d served", i)
        i += 1
        time.sleep(max(0.0, started + i / rate - time.monotonic()))
    log.removeHandler(handler)


def probe_of(message: str) -> int | None:
    return int(message[len(PROBE):]) if message.startswith(PROBE) else None


async def watch_stream(url: str, seen: dict[int, float], stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as session, session.get(url + "/api/v1/logs/stream") as response:
        event = b""
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(response.content.readline(), 1.0)
            except asyncio.TimeoutError:
                continue
            if line.startswith(b"event: "):
                event = line[7:].strip()
            elif line.startswith(b"data: ") and event == b"error":  # not the feed's status events
                probe = probe_of(orjson.loads(line[6:])["message"])
                if probe is not None:
                    seen.setdefault(probe, time.time())


async def poll_api(url: str, seen: dict[int, float], stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            async with session.get(url + "/api/v1/logs/errors", params={"limit": "100"}) as response:
                now = time.time()
                for error in (await response.json())["errors"]:
                    probe = probe_of(error["message"])
                    if probe is not None:
                        seen.setdefault(probe, now)
            await asyncio.sleep(POLL_SECONDS)


def percentiles(sent: dict[int, float], seen: dict[int, float]) -> tuple[float, float, int]:
    delays = sorted((seen[p] - sent[p]) * 1000 for p in sent if p in seen)
    return statistics.median(delays), delays[max(0, int(len(delays) * 0.99) - 1)], len(delays)


async def measure(worker: Worker, rate: float, seconds: float, spool: Path) -> None:
    sent: dict[int, float] = {}
    api_seen: dict[int, float] = {}
    sse_seen: dict[int, float] = {}
    stop = asyncio.Event()
    handler = KafkaLogHandler(worker.env["KAFKA_BOOTSTRAP_SERVERS"], service="checkout",
                              topic=worker.logs_topic, spool_dir=spool)
    watchers = [asyncio.create_task(watch_stream(worker.url, sse_seen, stop)),
                asyncio.create_task(poll_api(worker.url, api_seen, stop))]
    await asyncio.sleep(1.0)
    logging_thread = threading.Thread(target=log_steadily, args=(handler, rate, seconds, sent))
    logging_thread.start()
    await asyncio.to_thread(logging_thread.join)
    await asyncio.sleep(3.0)
    stop.set()
    await asyncio.gather(*watchers)
    handler.close()
    print(f"\nP3 at {rate:,.0f} logs/s for {seconds:.0f} s, {len(sent)} error probes "
          f"(API polled every {POLL_SECONDS * 1000:.0f} ms):")
    for name, seen in (("visible in /api/v1/logs/errors", api_seen), ("on the SSE stream", sse_seen)):
        p50, p99, count = percentiles(sent, seen)
        print(f"  {name}: p50 {p50:.0f} ms, p99 {p99:.0f} ms ({count}/{len(sent)} probes seen)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    with broker() as (bootstrap, _local), healthy_worker(bootstrap, "p3", work) as worker:
        asyncio.run(measure(worker, args.rate, args.seconds, work / "spool"))


if __name__ == "__main__":
    main()
