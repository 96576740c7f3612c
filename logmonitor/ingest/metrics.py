"""Prometheus metrics of the ingest server, in a registry of its own (served at its ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "BODY_BYTES", "BYTES_IN_FLIGHT", "INGEST_REGISTRY", "PRODUCE_SECONDS", "RECORDS_ACCEPTED", "RECORDS_REJECTED",
    "REQUESTS", "reason_code",
]

INGEST_REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "logmonitor_ingest_requests", "HTTP requests answered, by route and status.", ["route", "status"],
    registry=INGEST_REGISTRY,
)
RECORDS_ACCEPTED = Counter(
    "logmonitor_ingest_records_accepted", "Records Kafka acknowledged on the logs topic, by route.", ["route"],
    registry=INGEST_REGISTRY,
)
RECORDS_REJECTED = Counter(
    "logmonitor_ingest_records_rejected", "Records sent to the dead-letter topic instead, by reason.", ["reason"],
    registry=INGEST_REGISTRY,
)
BODY_BYTES = Counter(
    "logmonitor_ingest_body_bytes", "Request body bytes received, after decompression, by route.", ["route"],
    registry=INGEST_REGISTRY,
)
BYTES_IN_FLIGHT = Gauge(
    "logmonitor_ingest_bytes_in_flight", "Request bytes held now: read, not yet acknowledged by Kafka "
    "(LOGMONITOR_INGEST_MAX_IN_FLIGHT_BYTES bounds it).", registry=INGEST_REGISTRY,
)
PRODUCE_SECONDS = Histogram(
    "logmonitor_ingest_produce_seconds", "From handing a request's records to the producer until Kafka "
    "acknowledged all of them.", buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=INGEST_REGISTRY,
)


def reason_code(reason: str) -> str:
    """A rejection reason's code (the part before its first colon), a bounded metric label as the router's."""
    return reason.split(":", 1)[0]
