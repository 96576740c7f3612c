"""P6: a soak at 5,000 logs/s; worker RSS and consumer lag sampled, plotted, summarised.

    .venv/bin/python -m bench.soak [--rate 5000] [--minutes 10] [--plot docs/soak.png] [--store memory://]

A producer offers ``--rate`` records/s (5% errors) to one worker (``--store``, rocksdb://) for
``--minutes``; every 5 s the worker's RSS and the consumer group's lag (end offsets minus
committed offsets of ``application-logs``) are sampled. RSS growth compares the median of the
last tenth of the run with the median of its second tenth (after warm-up). Starts its own broker on free loopback
ports (or uses $KAFKA_BOOTSTRAP_SERVERS), stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.api import ingest
from bench.common import broker, healthy_worker

SAMPLE_SECONDS = 5.0
PARTITIONS = 8


async def consumer_lag(bootstrap: str, group: str, topic: str) -> int:
    """End offsets minus the group's committed offsets, summed over the topic's partitions."""
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        ends = await consumer.end_offsets(partitions)
        return sum(ends[tp] - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
                   for tp in partitions)
    finally:
        await consumer.stop()
        await admin.close()


def plot(samples: list[tuple[float, float, int]], path: Path, rate: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [t / 60 for t, _rss, _lag in samples]
    figure, (rss_axis, lag_axis) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    rss_axis.plot(minutes, [rss for _t, rss, _lag in samples], color="#1f5fbf")
    rss_axis.set_ylabel("worker RSS (MiB)")
    rss_axis.set_ylim(bottom=0)
    lag_axis.plot(minutes, [lag for _t, _rss, lag in samples], color="#b3261e")
    lag_axis.set_ylabel("consumer lag (records)")
    lag_axis.set_xlabel("minutes")
    lag_axis.set_ylim(bottom=0)
    figure.suptitle(f"logmonitor soak: one worker, {rate:,.0f} logs/s offered")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=5000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--plot", type=Path, default=Path("docs/soak.png"))
    parser.add_argument("--store", default="rocksdb://", choices=["rocksdb://", "memory://"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    samples: list[tuple[float, float, int]] = []
    with broker() as (bootstrap, _local), healthy_worker(bootstrap, "p6", work, PARTITIONS,
                                                        LOGMONITOR_STORE=args.store) as worker:
        stop = threading.Event()
        progress = {"sent": 0}
        feeder = threading.Thread(target=lambda: asyncio.run(
            ingest(bootstrap, worker.logs_topic, args.rate, stop, progress)))
        feeder.start()
        began = time.monotonic()
        try:
            while time.monotonic() - began < args.minutes * 60:
                time.sleep(SAMPLE_SECONDS)
                lag = asyncio.run(consumer_lag(bootstrap, worker.env["LOGMONITOR_APP_ID"], worker.logs_topic))
                samples.append((time.monotonic() - began, worker.rss_mib(), lag))
        finally:
            stop.set()
            feeder.join()
            sent = progress["sent"]
    plot(samples, args.plot, args.rate)
    tenth = samples[-1][0] / 10
    second = [s for s in samples if tenth <= s[0] <= 2 * tenth] or samples[:1]
    final = [s for s in samples if s[0] >= samples[-1][0] - tenth]
    warm, last = [s[1] for s in second], [s[1] for s in final]
    lags_warm, lags_last = [s[2] for s in second], [s[2] for s in final]
    growth = statistics.median(last) / statistics.median(warm) - 1
    print(f"\nP6: {args.minutes:g} min at {args.rate:,.0f} logs/s offered ({sent:,} produced), one worker, "
          f"{args.store}")
    print(f"  RSS median, 2nd tenth: {statistics.median(warm):.0f} MiB; last tenth: {statistics.median(last):.0f} MiB; "
          f"growth {growth:+.1%} (target <= 10%)")
    print(f"  consumer lag median, 2nd tenth: {statistics.median(lags_warm):,.0f}; last tenth: "
          f"{statistics.median(lags_last):,.0f}; max {max(lag for _t, _r, lag in samples):,}")
    print(f"  plot: {args.plot}")


if __name__ == "__main__":
    main()
