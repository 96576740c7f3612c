"""Loki push: python-logging-loki's JSON and a snappy protobuf ``PushRequest``; 204 and records in the API."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import cramjam
import logging_loki
import pytest

from logmonitor.ingest.loki_push import EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp
from tests.fixtures.ingest import IngestProcess, running_ingest, wait_for, worker_ingest_env
from tests.fixtures.worker import WorkerProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ingest(module_worker: WorkerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestProcess]:
    """An ingest server in front of the module's worker, shared by the module's tests."""
    with running_ingest(worker_ingest_env(module_worker), tmp_path_factory.mktemp("loki") / "ingest.log") as server:
        yield server


def test_python_logging_loki_records_reach_the_api_with_their_service_and_level(
        ingest: IngestProcess, module_worker: WorkerProcess) -> None:
    service = f"loki-json-{uuid.uuid4().hex[:6]}"
    handler = logging_loki.LokiHandler(url=f"{ingest.url}/loki/api/v1/push", tags={"service": service}, version="1")
    logger = logging.getLogger(f"loki.{service}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.info("user signed in")
    logger.warning("quota at 90%%")
    logger.error("payment gateway timed out", extra={"tags": {"region": "eu-west-1"}})
    logger.removeHandler(handler)
    stats = wait_for(lambda: module_worker.get_json("/api/v1/logs/stats"),
                     lambda s: sum(s["by_service"].get(service, {}).values()) >= 3)
    assert stats["by_service"][service] == {"INFO": 1, "WARNING": 1, "ERROR": 1}
    [error] = wait_for(lambda: module_worker.get_json(f"/api/v1/logs/errors/{service}")["errors"], bool)
    assert (error["message"], error["logger"]) == ("payment gateway timed out", f"loki.{service}")
    assert error["extra"]["region"] == "eu-west-1"
    assert ingest.metric("logmonitor_ingest_requests_total") >= 3


def test_a_snappy_protobuf_push_is_204_and_its_records_reach_the_api_with_release_and_environment(
        ingest: IngestProcess, module_worker: WorkerProcess) -> None:
    service = f"loki-proto-{uuid.uuid4().hex[:6]}"
    now = time.time_ns()
    entries = [
        EntryAdapter(timestamp=Timestamp(seconds=now // 10**9, nanos=now % 10**9), line=line.encode(),
                     structuredMetadata=[LabelPairAdapter(name=b"trace_id", value=b"4bf92f3577b34da6a3ce929d0e0e4736"),
                                         LabelPairAdapter(name=b"service_version", value=b"5.0.2")])
        for line in ('level=info msg="cache warmed"', '{"level": "error", "msg": "disk full"}')]
    push = PushRequest(streams=[StreamAdapter(labels=f'{{service_name="{service}", env="prod"}}'.encode(),
                                              entries=entries)])
    body = bytes(cramjam.snappy.compress_raw(push.SerializeToString()))
    status, _, answer = ingest.post("/loki/api/v1/push", body, {"Content-Type": "application/x-protobuf"})
    assert (status, answer) == (204, b"")
    stats = wait_for(lambda: module_worker.get_json("/api/v1/logs/stats"),
                     lambda s: sum(s["by_service"].get(service, {}).values()) >= 2)
    assert stats["by_service"][service] == {"INFO": 1, "ERROR": 1}
    [error] = wait_for(lambda: module_worker.get_json(f"/api/v1/logs/errors/{service}")["errors"], bool)
    assert error["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert (error["release"], error["environment"]) == ("5.0.2", "prod"), "from metadata and from a label"


def test_a_snappy_body_declaring_more_than_the_limit_is_413_before_it_is_decompressed(ingest: IngestProcess) -> None:
    declares_a_gibibyte = b"\x80\x80\x80\x80\x04" + b"\x00" * 16
    status, _, _ = ingest.post("/loki/api/v1/push", declares_a_gibibyte, {"Content-Type": "application/x-protobuf"})
    assert status == 413
