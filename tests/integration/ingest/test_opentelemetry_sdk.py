"""The official OpenTelemetry Python SDK ships to ``POST /v1/logs``; its records reach the worker's API."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter as JsonLogExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as ProtobufLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from tests.fixtures.ingest import IngestProcess, wait_for, worker_ingest_env
from tests.fixtures.worker import WorkerProcess

pytestmark = pytest.mark.integration

EXPORTERS = {"protobuf": ProtobufLogExporter, "json": JsonLogExporter}


def sdk_logger(exporter: Any, service: str) -> tuple[logging.Logger, LoggerProvider]:
    """A stdlib logger whose records the SDK's LoggingHandler exports (the documented setup)."""
    provider = LoggerProvider(resource=Resource.create({
        "service.name": service, "host.name": "otel-host-1", "service.version": "3.1.0",
        "deployment.environment.name": "staging"}))
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    with warnings.catch_warnings():  # the SDK's handler is deprecated for opentelemetry-instrumentation-logging's
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(level=logging.DEBUG, logger_provider=provider)
    logger = logging.getLogger(f"otel.{service}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return logger, provider


@pytest.mark.parametrize("encoding", sorted(EXPORTERS))
def test_sdk_records_appear_in_the_api_with_service_level_exception_trace_id_release_and_environment(
    encoding: str, module_worker: WorkerProcess, start_ingest: Callable[..., IngestProcess]) -> None:
    worker = module_worker
    ingest = start_ingest(worker_ingest_env(worker))
    service = f"otel-{encoding}"
    logger, provider = sdk_logger(EXPORTERS[encoding](endpoint=f"{ingest.url}/v1/logs"), service)
    tracer = TracerProvider().get_tracer("tests")
    logger.debug("cache warmed")
    logger.info("order %s placed", "o-1", extra={"order_total": 12.5})
    logger.warning("slow upstream")
    with tracer.start_as_current_span("checkout") as span:
        try:
            raise ValueError("card declined")
        except ValueError:
            logger.exception("payment failed for order %s", "o-1")
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert provider.force_flush(30_000), "the exporter did not get a 2xx"
    provider.shutdown()

    stats = wait_for(lambda: worker.get_json("/api/v1/logs/stats"),
                     lambda s: sum(s["by_service"].get(service, {}).values()) >= 4)
    assert stats["by_service"][service] == {"DEBUG": 1, "INFO": 1, "WARNING": 1, "ERROR": 1}
    errors = wait_for(lambda: worker.get_json(f"/api/v1/logs/errors/{service}")["errors"], bool)
    [error] = errors
    assert (error["service"], error["level"], error["host"]) == (service, "ERROR", "otel-host-1")
    assert error["message"] == "payment failed for order o-1"
    assert error["exception"]["type"] == "ValueError" and error["exception"]["message"] == "card declined"
    assert "raise ValueError" in error["exception"]["stacktrace"]
    assert error["trace_id"] == trace_id
    assert (error["release"], error["environment"]) == ("3.1.0", "staging")
    assert "service.version" not in error["extra"] and "deployment.environment.name" not in error["extra"]
    assert error["span_id"] == format(span.get_span_context().span_id, "016x")
    assert ingest.metric("logmonitor_ingest_records_accepted_total") == 4
