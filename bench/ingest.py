"""P7: records/s through ``POST /v1/logs`` (OTLP protobuf, 1,000 records a request) to Kafka-acknowledged.

Against KafkaLogHandler's own produce rate measured in the same run (bench.handler's
``delivered_per_second``), on the same broker; also each request's latency (p50, p99, max).

    .venv/bin/python -m bench.ingest [--requests 300] [--clients 4]

Starts its own broker on free loopback ports (or uses $KAFKA_BOOTSTRAP_SERVERS) and one
``logmonitor ingest`` process on a free loopback port; stops both.
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
from pathlib import Path

import aiohttp
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from bench.common import SERVICES, broker, create_topics, free_port
from bench.handler import delivered_per_second
from logmonitor.dev.devstack import wait_for_health

RECORDS_PER_REQUEST = 1000
ERROR, INFO = SeverityNumber.SEVERITY_NUMBER_ERROR, SeverityNumber.SEVERITY_NUMBER_INFO
LOGS_TOPIC, DLQ_TOPIC, HANDLER_TOPIC = "bench-ingest-logs", "bench-ingest-dlq", "bench-handler-logs"


def otlp_body(index: int) -> bytes:
    """One ``ExportLogsServiceRequest`` of 1,000 realistic records (5% ERROR) of one service, as the SDK sends."""
    service = SERVICES[index % len(SERVICES)]
    now = time.time_ns()
    records = [
        LogRecord(time_unix_nano=now + i,
                  severity_number=ERROR if i % 20 == 0 else INFO,
                  severity_text="ERROR" if i % 20 == 0 else "INFO",
                  body=AnyValue(string_value=f"request {i} served in {i % 90} ms"),
                  attributes=[KeyValue(key="route", value=AnyValue(string_value="/api/items"))],
                  trace_id=os.urandom(16), span_id=os.urandom(8))
        for i in range(RECORDS_PER_REQUEST)]
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value=service)),
                                    KeyValue(key="host.name", value=AnyValue(string_value=f"{service}-1"))])
    request = ExportLogsServiceRequest(resource_logs=[ResourceLogs(
        resource=resource, scope_logs=[ScopeLogs(log_records=records)])])
    return request.SerializeToString()


async def push(url: str, bodies: list[bytes], requests: int, clients: int) -> tuple[float, list[float], int]:
    """``requests`` POSTs from ``clients`` concurrent clients; the seconds it took, each latency, the failures."""
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while not queue.empty():
            n = queue.get_nowait()
            started = time.perf_counter()
            async with session.post(url, data=bodies[n % len(bodies)],
                                    headers={"Content-Type": "application/x-protobuf"}) as response:
                await response.read()
                failures += response.status != 200
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        began = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        return time.perf_counter() - began, latencies, failures


def ingest_server(bootstrap: str, log_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A healthy ``logmonitor ingest`` producing to the bench topics; its process and URL."""
    port = free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "LOGMONITOR_TOPIC_LOGS": LOGS_TOPIC,
           "LOGMONITOR_TOPIC_DLQ": DLQ_TOPIC, "LOGMONITOR_INGEST_PORT": str(port)}
    with log_file.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "logmonitor", "ingest"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    if not wait_for_health(url + "/health", 60, lambda: process.poll() is None):
        process.kill()
        raise RuntimeError(f"the ingest server did not start; see {log_file}")
    return process, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests of 1,000 records each")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--handler-records", type=int, default=200_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    bodies = [otlp_body(i) for i in range(len(SERVICES))]
    with broker() as (bootstrap, _local):
        asyncio.run(create_topics(bootstrap, 8, LOGS_TOPIC, DLQ_TOPIC, HANDLER_TOPIC))
        handler_rate = delivered_per_second(bootstrap, HANDLER_TOPIC, work / "spool", args.handler_records)
        process, url = ingest_server(bootstrap, work / "ingest.log")
        try:
            asyncio.run(push(url + "/v1/logs", bodies, 10, 1))  # warm-up: connections, metadata, first batches
            seconds, latencies, failures = asyncio.run(push(url + "/v1/logs", bodies, args.requests, args.clients))
        finally:
            process.terminate()
            process.wait(30)
    ordered = sorted(latencies)
    rate = args.requests * RECORDS_PER_REQUEST / seconds
    print(f"\nP7, {args.requests} requests of {RECORDS_PER_REQUEST} records ({len(bodies[0]):,} bytes of protobuf), "
          f"{args.clients} clients (Python {sys.version.split()[0]}, {os.cpu_count()} cores)\n")
    print("| path | records/s | ratio | request p50 ms | p99 ms | max ms | failed |")
    print("|---|---|---|---|---|---|---|")
    print(f"| KafkaLogHandler, {args.handler_records} records (baseline) | {handler_rate:,.0f} | 1.00x | | | | |")
    print(f"| POST /v1/logs to Kafka-acknowledged | {rate:,.0f} | {rate / handler_rate:.2f}x | "
          f"{statistics.median(ordered) * 1000:.1f} | {ordered[int(len(ordered) * 0.99) - 1] * 1000:.1f} | "
          f"{ordered[-1] * 1000:.1f} | {failures} |")


if __name__ == "__main__":
    main()
