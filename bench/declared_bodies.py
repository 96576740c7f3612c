"""R13 / issue 26 items 1 and 2: bodies that declare millions of records, what refusing them costs.

Part of ``python -m bench.hostile`` (``--only declared``): small bodies of empty records to a real
``logmonitor ingest`` (gzip and snappy), one lz4 message of them on a worker's logs topic. For each:
the answer, the server's CPU seconds and peak-RSS growth (``VmHWM``) it cost, and the slowest health
answer meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cramjam
from aiokafka import AIOKafkaProducer

from bench.common import Worker, free_port
from logmonitor.dev.devstack import wait_for_health
from tests.fixtures.protobuf_wire import EMPTY, field, otlp_of_empty_records

MIB = 1024 * 1024
Row = tuple[str, int, float, float, float, float]  # name, status, wire KiB, CPU s, peak RSS growth MiB, health max ms


def http_bodies() -> list[tuple[str, str, str, str, bytes]]:
    """(name, path, content type, encoding, body on the wire) of the hostile requests."""
    json_records = b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[' + b",".join([b"{}"] * 6_900_000) + b"]}]}]}"
    loki = field(1, field(1, b'{service_name="s"}') + EMPTY * 9_000_000)
    return [
        ("OTLP protobuf, 9 M empty records (18 MB)", "/v1/logs", "application/x-protobuf", "gzip",
         gzip.compress(otlp_of_empty_records(9_000_000), 9)),
        ("OTLP protobuf, 1.9 M empty records (3.9 KB gzip)", "/v1/logs", "application/x-protobuf", "gzip",
         gzip.compress(otlp_of_empty_records(1_900_000), 9)),
        ("OTLP protobuf, one record of 9 M empty attributes", "/v1/logs", "application/x-protobuf", "gzip",
         gzip.compress(field(1, field(2, field(2, b"\x32\x00" * 9_000_000))), 9)),
        ("OTLP/JSON, 6.9 M {} (20.7 MB)", "/v1/logs", "application/json", "gzip", gzip.compress(json_records, 9)),
        ("NDJSON, 6.9 M lines of {}", "/api/v1/ingest", "application/x-ndjson", "gzip",
         gzip.compress(b"{}\n" * 6_900_000, 9)),
        ("Loki snappy protobuf, 9 M empty entries", "/loki/api/v1/push", "application/x-protobuf", "snappy",
         bytes(cramjam.snappy.compress_raw(loki))),
    ]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmHWM:")[1].split()[0]) / 1024


class _HealthPoller:
    """Asks a health URL every 0.1 s in a thread; the slowest answer since the last :meth:`slowest`."""

    def __init__(self, url: str) -> None:
        self.url, self.worst, self._stop = url, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=30) as response:
                    response.read()
            except (urllib.error.URLError, OSError):
                pass
            self.worst = max(self.worst, time.perf_counter() - started)

    def slowest(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _measured(pid: int, poller: _HealthPoller, action: Callable[[], int]) -> tuple[int, float, float, float]:
    """The status ``action`` returned, and the CPU s, peak-RSS growth (MiB) and slowest health (ms) it cost."""
    cpu, peak = _cpu_seconds(pid), _peak_rss_mib(pid)
    poller.slowest()
    status = action()
    return status, _cpu_seconds(pid) - cpu, _peak_rss_mib(pid) - peak, poller.slowest() * 1000


@contextmanager
def _ingest_server(worker: Worker, work: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**worker.env, "LOGMONITOR_INGEST_PORT": str(port)}
    with (work / "ingest.log").open("ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "logmonitor", "ingest"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        if not wait_for_health(url + "/health", 60, lambda: process.poll() is None, poll=0.1):
            raise RuntimeError("the ingest server did not start")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(30)


def _post(url: str, content_type: str, encoding: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type, "Content-Encoding": encoding})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def ingest_rows(worker: Worker, work: Path) -> list[Row]:
    """Each hostile body to a fresh ingest server in front of ``worker``'s topics, one after another."""
    rows: list[Row] = []
    with _ingest_server(worker, work) as (url, pid):
        poller = _HealthPoller(url + "/health")
        try:
            for name, path, content_type, encoding, body in http_bodies():
                post = functools.partial(_post, url + path, content_type, encoding, body)
                status, cpu, rss, health = _measured(pid, poller, post)
                rows.append((name, status, len(body) / 1024, cpu, rss, health))
        finally:
            poller.stop()
    return rows


async def _produce_batch(bootstrap: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="lz4", max_request_size=9 * MIB)
    await producer.start()
    try:
        await (await producer.send(topic, value, key=b"collector"))
    finally:
        await producer.stop()


def kafka_row(worker: Worker) -> Row:
    """One lz4 message of 4 M empty records (8 MB) on the worker's logs topic, until it is dead-lettered."""
    assert worker.process is not None
    value = otlp_of_empty_records(4_000_000)
    invalid = (worker.get("/api/v1/logs/stats") or {}).get("invalid_records", 0)
    poller = _HealthPoller(worker.url + "/api/v1/health")

    def send_and_wait() -> int:
        asyncio.run(_produce_batch(worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.logs_topic, value))
        while (worker.get("/api/v1/logs/stats") or {}).get("invalid_records", 0) <= invalid:
            time.sleep(0.05)
        return 0  # dead-lettered

    try:
        status, cpu, rss, health = _measured(worker.process.pid, poller, send_and_wait)
    finally:
        poller.stop()
    return ("Kafka: OTLP batch of 4 M empty records (8 MB, lz4)", status, len(value) / 1024, cpu, rss, health)


def print_rows(rows: list[Row]) -> None:
    """The figures as a Markdown table."""
    print("\nR13: bodies that declare millions of records (each after the previous; peak RSS is the growth of "
          "the process's high-water mark):")
    print("| body | answer | KiB sent | CPU s | peak RSS growth MiB | health max ms |")
    print("|---|---|---|---|---|---|")
    for name, status, kib, cpu, rss, health in rows:
        answer = "dead letter" if status == 0 else str(status)
        print(f"| {name} | {answer} | {kib:,.1f} | {cpu:.2f} | {rss:.0f} | {health:.0f} |")
