"""P2 (router throughput against a plain aiokafka loop), P9 (spread records) and P5 (restart time), one run.

    .venv/bin/python -m bench.pipeline [--records 200000] [--rounds 3] [--history 1000000] [--partitions 8]
                                       [--foreign] [--spread]

P2: the same pre-loaded records are read by (a) a plain aiokafka consume-parse-produce loop that
forwards the errors, and (b) one logmonitor worker (parse, normalise, tables, forward errors),
taking turns for ``--rounds`` rounds; records/s of each, their medians and the ratio, also per
second of processor time. The worker is timed from health 200 to its Prometheus counter reaching
every record. P5: a worker with
``--history`` records of table state is restarted, on ``memory://`` and on ``rocksdb://``;
seconds from process start to health 200. The records come as KafkaLogHandler sends them, marked
as redacted; with ``--foreign`` unmarked, as from other producers, so the router redacts each one.
P9 (``--spread``): each round also times a worker over the same records unkeyed, spread evenly over
all partitions (the router forwards 7 of 8 to their service's home partition and counts them there),
against the keyed ones of P2. Starts its own broker on free loopback ports (or uses
$KAFKA_BOOTSTRAP_SERVERS, with topic and app names of this run's own), stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import NamedTuple

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.common import Worker, broker, create_topics, preload


class Rate(NamedTuple):
    """Records a second: of wall clock (a worker's from health 200 to all routed), and of its processor time."""

    wall: float
    cpu: float


async def plain_loop(bootstrap: str, source: str, partition_count: int, sink: str, total: int) -> Rate:
    """Records a second (of wall clock, of this process's processor time) of a consume-parse-produce loop that
    forwards ERROR records to ``sink``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=4 * 1024 * 1024)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, compression_type="lz4")
    await consumer.start()
    await producer.start()
    try:
        partitions = [TopicPartition(source, p) for p in range(partition_count)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen = 0
        started, used = time.perf_counter(), time.process_time()
        while seen < total:
            pending = []
            for batch in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                for message in batch:
                    record = orjson.loads(message.value)
                    if record.get("level") in ("ERROR", "CRITICAL"):
                        pending.append(await producer.send(sink, message.value, key=message.key))
                seen += len(batch)
            if pending:
                await asyncio.gather(*pending)
        await producer.flush()
        return Rate(total / (time.perf_counter() - started), total / (time.process_time() - used))
    finally:
        await consumer.stop()
        await producer.stop()


def router_rate(bootstrap: str, work: Path, app_id: str, partitions: int, total: int, store: str, *,
                ours: bool = True, spread: bool = False) -> tuple[Rate, Worker]:
    """The rates of one logmonitor worker over a pre-loaded topic; ``spread``: unkeyed."""
    worker = Worker(bootstrap, app_id, work / app_id, partitions, LOGMONITOR_STORE=store)
    asyncio.run(create_topics(bootstrap, partitions, worker.logs_topic))
    asyncio.run(preload(bootstrap, worker.logs_topic, total, ours=ours, spread_over=partitions if spread else 0))
    worker.start()
    ready = worker.wait_healthy()
    used = worker.cpu_seconds()
    done = worker.wait_routed(total)
    return Rate(total / (done - ready), total / (worker.cpu_seconds() - used)), worker


def restart_seconds(worker: Worker) -> float:
    """Stop the worker gracefully, start it again; seconds from start to health 200."""
    worker.stop()
    started = worker.start()
    return worker.wait_healthy() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="P2 records")
    parser.add_argument("--history", type=int, default=1_000_000, help="P5 records of history (0: skip P5)")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="P2 rounds of plain loop then router")
    parser.add_argument("--foreign", action="store_true", help="P2 records as from other producers (redacted)")
    parser.add_argument("--spread", action="store_true", help="P9: also the same records unkeyed, spread evenly")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    run = uuid.uuid4().hex[:6]  # this run's topic and app names: the broker may be shared
    source, sink = f"plain-source-{run}", f"plain-errors-{run}"
    lines = []
    with broker() as (bootstrap, _local):
        asyncio.run(create_topics(bootstrap, args.partitions, source, sink))
        asyncio.run(preload(bootstrap, source, args.records, ours=not args.foreign))
        plains: list[Rate] = []
        ours: list[Rate] = []
        spreads: list[Rate] = []
        for round_ in range(args.rounds):  # alternating, so both meet the broker cold and warm
            plains.append(asyncio.run(plain_loop(bootstrap, source, args.partitions, sink, args.records)))
            rate, worker = router_rate(bootstrap, work, f"p2-{run}-{round_}", args.partitions, args.records,
                                       "memory://", ours=not args.foreign)
            worker.stop()
            ours.append(rate)
            if args.spread:
                rate, worker = router_rate(bootstrap, work, f"p9-{run}-{round_}", args.partitions, args.records,
                                           "memory://", ours=not args.foreign, spread=True)
                worker.stop()
                spreads.append(rate)
        plain, our = statistics.median(rate.wall for rate in plains), statistics.median(rate.wall for rate in ours)
        origin = "other producers' (redacted by the router)" if args.foreign else "our handler's"
        lines.append(f"P2, {args.records:,} {origin} records, {args.partitions} partitions, 5% errors, one worker, "
                     f"{args.rounds} rounds (median; each round's figure in brackets):")
        lines.append(f"  plain aiokafka consume-parse-produce loop: {plain:,.0f} records/s "
                     f"[{', '.join(f'{rate.wall:,.0f}' for rate in plains)}]")
        lines.append(f"  logmonitor router (parse, normalise, 4 tables, forward errors): {our:,.0f} records/s "
                     f"[{', '.join(f'{rate.wall:,.0f}' for rate in ours)}]")
        rounds = list(zip(ours, plains, strict=True))
        lines.append(f"  ratio: {our / plain:.2f}x (target >= 0.6x; --foreign >= 0.5x) "
                     f"[{', '.join(f'{mine.wall / theirs.wall:.2f}x' for mine, theirs in rounds)}]")
        cpu_plain, cpu_our = (statistics.median(rate.cpu for rate in rates) for rates in (plains, ours))
        lines.append(f"  per second of processor time (the loop's process, the worker; other loads hardly move it): "
                     f"plain {cpu_plain:,.0f}, router {cpu_our:,.0f} records, {cpu_our / cpu_plain:.2f}x "
                     f"[{', '.join(f'{mine.cpu / theirs.cpu:.2f}x' for mine, theirs in rounds)}]")
        if spreads:
            spread = statistics.median(rate.wall for rate in spreads)
            lines.append(f"P9, the same records unkeyed, spread evenly over the {args.partitions} partitions:")
            lines.append(f"  logmonitor router (forward off-home records, count them at home): {spread:,.0f} "
                         f"records/s [{', '.join(f'{rate.wall:,.0f}' for rate in spreads)}]")
            pairs = list(zip(spreads, ours, strict=True))
            walls = ", ".join(f"{mine.wall / keyed.wall:.2f}x" for mine, keyed in pairs)
            lines.append(f"  ratio to the keyed records: {spread / our:.2f}x (target >= 0.5x) [{walls}]")
            cpu_spread, cpu_keyed = (statistics.median(rate.cpu for rate in rates) for rates in (spreads, ours))
            cpus = ", ".join(f"{mine.cpu / keyed.cpu:.2f}x" for mine, keyed in pairs)
            lines.append(f"  per second of the worker's processor time (other loads hardly move it): spread "
                         f"{cpu_spread:,.0f}, keyed {cpu_keyed:,.0f} records, {cpu_spread / cpu_keyed:.2f}x [{cpus}]")
        if args.history:
            lines.append(f"P5, worker restart with {args.history:,} records of history:")
            for store in ("memory://", "rocksdb://"):
                history, worker = router_rate(bootstrap, work, f"p5-{run}-{store[:-3]}", args.partitions,
                                              args.history, store)
                rss = worker.rss_mib()
                seconds = restart_seconds(worker)
                worker.stop()
                lines.append(f"  {store:<11} restart to health 200: {seconds:.1f} s "
                             f"(ingest {history.wall:,.0f} records/s, RSS before restart {rss:.0f} MiB)")
    print(f"\n(2 cores: {os.cpu_count()} CPUs; worker logs in {work})")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
