"""What every benchmark needs: a real broker on loopback, topics, pre-loaded records, a worker."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

from logmonitor.dev.devstack import wait_for_health
from logmonitor.dev.localkafka import LocalKafka
from logmonitor.handler.redaction import REDACTED_HEADER, REDACTION_RULES
from logmonitor.timestamps import iso_timestamp

SERVICES = ("usermanagement", "booking", "notification", "payment", "search", "inventory", "auth", "mail")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _exit_on_sigterm(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def broker(heap: str = "1g") -> Iterator[tuple[str, LocalKafka | None]]:
    """``$KAFKA_BOOTSTRAP_SERVERS``, or a fresh local broker on free ports, stopped at the end.

    While it is in use, SIGTERM exits through the ``finally`` blocks, so a benchmark stopped
    with ``kill`` stops its worker and broker too.
    """
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if external:
            yield external, None
            return
        with tempfile.TemporaryDirectory(prefix="bench-kafka-") as data:
            local = LocalKafka(Path(data), port=free_port(), controller_port=free_port(), heap=heap)
            local.start()
            try:
                yield local.bootstrap_servers, local
            finally:
                local.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)


async def create_topics(bootstrap: str, partitions: int, *names: str) -> None:
    """Create ``names`` with ``partitions`` partitions each."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    finally:
        await admin.close()


def records(count: int, error_share: float = 0.05, seed: int = 1) -> Iterator[tuple[bytes, bytes]]:
    """``(key, value)`` pairs of realistic records, ``error_share`` of them ERROR."""
    rng = random.Random(seed)
    now = time.time()
    for i in range(count):
        service = SERVICES[i % len(SERVICES)]
        error = rng.random() < error_share
        value = {
            "id": uuid.UUID(int=rng.getrandbits(128)).hex, "timestamp": iso_timestamp(now - (count - i) * 0.001),
            "level": "ERROR" if error else rng.choice(("INFO", "INFO", "INFO", "DEBUG", "WARNING")),
            "service": service, "host": f"{service}-{i % 3}", "logger": f"{service}.api",
            "message": f"request {i} failed: upstream timeout after {rng.randrange(100, 900)} ms" if error
            else f"request {i} served in {rng.randrange(1, 90)} ms",
            "module": "api", "function": "handle", "line": 42, "process": 1000 + i % 7, "thread": "MainThread",
            "request_id": uuid.UUID(int=rng.getrandbits(128)).hex[:16], "extra": {"route": "/api/items"},
        }
        yield service.encode(), orjson.dumps(value)


async def preload(bootstrap: str, topic: str, count: int, *, ours: bool = True, spread_over: int = 0) -> int:
    """Produce ``count`` records to ``topic`` as fast as the broker takes them.

    ``ours``: marked as redacted, as KafkaLogHandler sends them; else as another producer's,
    which the router redacts. Keyed by service (each on its home partition), or with ``spread_over``
    partitions unkeyed, evenly over them and every service over all of them, as an unkeyed producer
    spreads them: the ``i``-th record to partition ``(i + i // len(SERVICES)) % spread_over``.
    """
    headers = [(REDACTED_HEADER, REDACTION_RULES)] if ours else None
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024,
                                compression_type="lz4")
    await producer.start()
    try:
        pending = []
        for i, (key, value) in enumerate(records(count)):
            if spread_over:
                partition = (i + i // len(SERVICES)) % spread_over  # i % spread_over: service i % 8 on one only
                pending.append(await producer.send(topic, value, partition=partition, headers=headers))
            else:
                pending.append(await producer.send(topic, value, key=key, headers=headers))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return count


class Worker:
    """A ``logmonitor worker`` subprocess with its own app id, topics and port."""

    def __init__(self, bootstrap: str, app_id: str, data_dir: Path, partitions: int, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file = data_dir / "worker.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "LOGMONITOR_APP_ID": app_id,
            "LOGMONITOR_TOPIC_LOGS": f"{app_id}-logs", "LOGMONITOR_TOPIC_ERRORS": f"{app_id}-errors",
            "LOGMONITOR_TOPIC_DLQ": f"{app_id}-dlq", "LOGMONITOR_TOPIC_ALERTS": f"{app_id}-alerts",
            "LOGMONITOR_TOPIC_COMMANDS": f"{app_id}-commands",
            "LOGMONITOR_PARTITIONS": str(partitions), "LOG_MONITOR_SERVER_PORT": str(self.port),
            "LOGMONITOR_DATA_DIR": str(data_dir / "state"), **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def logs_topic(self) -> str:
        return self.env["LOGMONITOR_TOPIC_LOGS"]

    def start(self) -> float:
        """Start the worker; the monotonic time it was started."""
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "logmonitor", "worker", "-l", "warn"],
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        return time.monotonic()

    def get(self, path: str) -> Any:
        """GET ``path`` as JSON; None while the worker does not answer 200."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return orjson.loads(response.read())
        except (urllib.error.URLError, OSError):
            return None

    def wait_healthy(self, timeout: float = 600) -> float:
        """Wait for health 200; the monotonic time it came."""
        assert self.process is not None
        process = self.process
        if wait_for_health(self.url + "/api/v1/health", timeout, lambda: process.poll() is None, poll=0.05):
            return time.monotonic()
        raise RuntimeError(f"the worker exited or was not healthy within {timeout} s; see {self.log_file}")

    def routed(self) -> int | None:
        """Records the worker's router has processed (its Prometheus counter); None if it does not answer."""
        try:
            with urllib.request.urlopen(self.url + "/metrics", timeout=5) as response:
                text = response.read().decode()
        except (urllib.error.URLError, OSError):
            return None
        return sum(int(sample.value) for family in text_string_to_metric_families(text)
                   for sample in family.samples if sample.name == "logmonitor_records_routed_total")

    def wait_routed(self, total: int, timeout: float = 1800) -> float:
        """Wait until the router has processed ``total`` records; the monotonic time it had.

        Reads ``/metrics``, not ``/stats``: ``/stats`` answers are cached for a second, which
        made the router look up to 1.2 s slower.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            routed = self.routed()
            if routed is not None and routed >= total:
                return time.monotonic()
            time.sleep(0.02)
        raise RuntimeError(f"not all {total} records were routed within {timeout} s")

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 60 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_seconds(self) -> float:
        """The processor time the worker has used (user and system): unlike its rate, hardly moved by other loads."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)

    def rss_mib(self) -> float:
        """The worker's resident memory."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/status").read_text().split("VmRSS:")[1].split()
        return int(fields[0]) / 1024


@contextmanager
def healthy_worker(bootstrap: str, app_id: str, work: Path, partitions: int = 8, **env: str) -> Iterator[Worker]:
    """A started worker (its logs topic created first) that is healthy; stopped at the end."""
    worker = Worker(bootstrap, app_id, work / app_id, partitions, **env)
    asyncio.run(create_topics(bootstrap, partitions, worker.logs_topic))
    worker.start()
    try:
        worker.wait_healthy()
        yield worker
    finally:
        worker.stop()
