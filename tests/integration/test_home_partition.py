"""Our producers write each service to its home partition: the handler (librdkafka) and the ingest server (aiokafka)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from logmonitor.handler import KafkaLogHandler
from logmonitor.home_partition import home_partition
from logmonitor.timestamps import iso_timestamp
from tests.fixtures.ingest import IngestProcess, ingest_env
from tests.fixtures.traffic import create_topic, read_topic

pytestmark = pytest.mark.integration

PARTITIONS = 8
SERVICES = ("usermanagement", "booking", "notification", "payment", "checkout", "search", "ünïcode-dienst")


def test_the_handler_and_the_ingest_server_write_a_service_to_the_same_home_partition(
        kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path,
        start_ingest: Callable[[dict[str, str]], IngestProcess]) -> None:
    topic, dlq = unique_name("home-logs"), unique_name("home-dlq")
    asyncio.run(create_topic(kafka_bootstrap, topic, partitions=PARTITIONS))
    asyncio.run(create_topic(kafka_bootstrap, dlq, partitions=PARTITIONS))
    for service in SERVICES:
        handler = KafkaLogHandler(kafka_bootstrap, service=service, topic=topic, spool_dir=tmp_path / service)
        log = logging.getLogger(f"test.home.{service}")
        log.propagate = False
        log.addHandler(handler)
        try:
            log.warning("from the handler")
            assert handler.flush(15) is None
        finally:
            log.removeHandler(handler)
            handler.close()
    ingest = start_ingest(ingest_env(kafka_bootstrap, topic, dlq))
    lines = [orjson.dumps({"id": uuid.uuid4().hex, "timestamp": iso_timestamp(time.time()), "level": "INFO",
                           "service": service, "host": "h", "logger": "app", "message": "from the ingest server"})
             for service in SERVICES]
    status, _, answer = ingest.post("/api/v1/ingest", b"\n".join(lines), {"Content-Type": "application/x-ndjson"})
    assert status == 200, answer

    records = asyncio.run(read_topic(kafka_bootstrap, topic, expected=2 * len(SERVICES)))
    placed = {(orjson.loads(record.value)["service"], orjson.loads(record.value)["message"]): record.partition
              for record in records}
    assert placed == {(service, origin): home_partition(service, PARTITIONS)
                      for service in SERVICES for origin in ("from the handler", "from the ingest server")}
