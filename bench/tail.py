"""What following every record costs the router: its throughput with no follower and with followers of
``GET /api/v1/logs/tail``, taking turns on one worker, one run.

    .venv/bin/python -m bench.tail [--records 100000] [--rounds 3] [--followers 1] [--foreign]

One worker (8 partitions) is started on an empty logs topic. Each round produces ``--records`` records
(5% errors, keyed, as fast as the broker takes them) twice: once with nobody following, once with
``--followers`` clients (each a process of its own, reading the stream as fast as it comes and counting
the records and the ``skipped`` events) following every record. The router's rate is records over the
time from the first record produced to the router's Prometheus counter reaching them all; the figure
asked is the ratio of the medians. Each follower's records and skipped ones are reported, and how long
after the router it had them all. ``--foreign``: records as other producers send them (not marked as
redacted), which the router and the feed both redact. Starts its own broker on free loopback ports (or
uses $KAFKA_BOOTSTRAP_SERVERS, with names of this run's own).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import Worker, broker, healthy_worker, preload

# A follower: reads the stream until it has had (or missed) ``expected`` records; prints records, skipped and when.
FOLLOWER = r"""
import http.client, sys, time, orjson
host, port, expected = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
connection = http.client.HTTPConnection(host, port)
connection.request("GET", "/api/v1/logs/tail", headers={"Accept": "text/event-stream"})
response = connection.getresponse()
records = skipped = 0
rest = b""
live = False
while records + skipped < expected:
    chunk = response.read1(1 << 16)
    if not chunk:
        break
    *lines, rest = (rest + chunk).split(b"\n")
    for line in lines:
        if line == b"event: record":
            records += 1
        elif line.startswith(b'data: {"skipped"'):
            skipped += orjson.loads(line[6:])["skipped"]
        elif line == b"data: live" and not live:
            live = True
            print("live", flush=True)
print(records, skipped, time.monotonic(), flush=True)
"""


def follow(url: str, expected: int) -> subprocess.Popen[str]:
    """A follower process, once its stream is live."""
    host, port = url.removeprefix("http://").split(":")
    process = subprocess.Popen([sys.executable, "-c", FOLLOWER, host, port, str(expected)], text=True,
                               stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "live":
        raise RuntimeError("a follower's stream did not go live")
    return process


def round_rate(bootstrap: str, worker: Worker, count: int, foreign: bool) -> tuple[float, float]:
    """Records/s of the router over ``count`` records produced now; the monotonic time it had them all."""
    before = worker.routed() or 0
    started = time.monotonic()
    asyncio.run(preload(bootstrap, worker.logs_topic, count, ours=not foreign))
    done = worker.wait_routed(before + count)
    return count / (done - started), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--followers", type=int, default=1)
    parser.add_argument("--foreign", action="store_true", help="records as from other producers (redacted)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-tail-"))
    alone, followed, notes = [], [], []
    with broker() as (bootstrap, _local), healthy_worker(bootstrap, f"tail-{uuid.uuid4().hex[:6]}", work) as worker:
        round_rate(bootstrap, worker, 10_000, args.foreign)  # warm up: topics, connections, first fetches
        for _ in range(args.rounds):
            alone.append(round_rate(bootstrap, worker, args.records, args.foreign)[0])
            followers = [follow(worker.url, args.records) for _ in range(args.followers)]
            rate, done = round_rate(bootstrap, worker, args.records, args.foreign)
            followed.append(rate)
            for follower in followers:
                try:
                    out, _ = follower.communicate(timeout=300)
                    records, skipped, finished = out.split()
                    notes.append(f"{int(records):,} records, {int(skipped):,} skipped, all "
                                 f"{float(finished) - done:+.1f} s after the router")
                except subprocess.TimeoutExpired:
                    follower.kill()
                    notes.append("did not get or miss every record within 300 s")
            time.sleep(1.5)  # the followers' places are freed and the consumer stops before the next round
    origin = "other producers' (redacted by router and feed)" if args.foreign else "our handler's"
    plain, busy = statistics.median(alone), statistics.median(followed)
    print(f"\n(2 cores: {os.cpu_count()} CPUs; worker log in {work})")
    print(f"{args.records:,} {origin} records a round, 8 partitions, 5% errors, one worker, {args.rounds} rounds:")
    print(f"  router, nobody following: {plain:,.0f} records/s [{', '.join(f'{r:,.0f}' for r in alone)}]")
    print(f"  router, {args.followers} following every record: {busy:,.0f} records/s "
          f"[{', '.join(f'{r:,.0f}' for r in followed)}]")
    print(f"  ratio: {busy / plain:.2f}x [{', '.join(f'{b / a:.2f}x' for a, b in zip(alone, followed, strict=True))}]")
    print("  followers: " + "; ".join(notes))


if __name__ == "__main__":
    main()
