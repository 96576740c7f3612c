"""Prometheus metrics of the pipeline, in a registry of our own (served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "ALERTS_PUBLISHED",
    "ERRORS_FORWARDED",
    "EVENT_LOOP_LAG",
    "GROUPS_EXPIRED",
    "GROUPS_OVERFLOWED",
    "INVALID_RECORDS",
    "LIVE_FEED_FOLLOWERS",
    "LIVE_FEED_READING",
    "LIVE_FEED_SKIPPED",
    "NOTIFICATIONS",
    "OVERFLOWED_RECORDS",
    "RECORDS_REPARTITIONED",
    "RECORDS_ROUTED",
    "REGISTRY",
    "SEND_FAILURES",
    "SERVICES_EXPIRED",
    "WINDOWS_EXPIRED",
    "WINDOWS_HELD",
    "WRITES_REFUSED",
]

REGISTRY = CollectorRegistry(auto_describe=True)

RECORDS_ROUTED = Counter(
    "logmonitor_records_routed", "Valid log records processed by this worker's router "
    "(services beyond LOGMONITOR_MAX_SERVICES under service=\"_overflow\").",
    ["service", "level"], registry=REGISTRY,
)
OVERFLOWED_RECORDS = Counter(
    "logmonitor_overflowed_records", "Records counted under the _overflow service: their service is beyond "
    "LOGMONITOR_MAX_SERVICES.", registry=REGISTRY,
)
ERRORS_FORWARDED = Counter(
    "logmonitor_errors_forwarded", "ERROR and CRITICAL records forwarded to the errors topic.", registry=REGISTRY,
)
RECORDS_REPARTITIONED = Counter(
    "logmonitor_records_repartitioned",
    "Records read off their service's home partition, forwarded to the repartition topic.", registry=REGISTRY,
)
INVALID_RECORDS = Counter(
    "logmonitor_invalid_records", "Records sent to the dead-letter topic, by reason.", ["reason"], registry=REGISTRY,
)
LIVE_FEED_FOLLOWERS = Gauge(
    "logmonitor_live_feed_followers", "Clients following a live feed now (errors: /api/v1/logs/stream, "
    "records: /api/v1/logs/tail).", ["feed"], registry=REGISTRY,
)
LIVE_FEED_READING = Gauge(
    "logmonitor_live_feed_reading", "1 while the live feed's consumer runs (it runs only while anyone follows).",
    ["feed"], registry=REGISTRY,
)
LIVE_FEED_SKIPPED = Counter(
    "logmonitor_live_feed_skipped", "Records not sent to a live-feed client that (or whose feed) did not keep up "
    "(each client is told how many).", ["feed"], registry=REGISTRY,
)
WINDOWS_EXPIRED = Counter(
    "logmonitor_windows_expired", "Per-minute count windows dropped for being older than the retention.",
    registry=REGISTRY,
)
WINDOWS_HELD = Gauge(
    "logmonitor_windows_held", "Per-minute count windows this worker holds after the last sweep.", registry=REGISTRY,
)
GROUPS_EXPIRED = Counter(
    "logmonitor_groups_expired", "Error groups removed for being unseen longer than the group retention.",
    registry=REGISTRY,
)
GROUPS_OVERFLOWED = Counter(
    "logmonitor_groups_overflowed", "Errors counted in their service's overflow group (fingerprint _overflow): "
    "the service has LOGMONITOR_MAX_GROUPS_PER_SERVICE groups already.", registry=REGISTRY,
)
SERVICES_EXPIRED = Counter(
    "logmonitor_services_expired", "Services removed (with their recent errors and groups) for being unseen "
    "longer than the service retention.", registry=REGISTRY,
)
ALERTS_PUBLISHED = Counter(
    "logmonitor_alerts_published", "Alerts published to the alerts topic, by rule and status.", ["rule", "status"],
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "logmonitor_notifications", "Notification attempts by notifier and outcome (sent, retried, failed, dropped).",
    ["notifier", "outcome"], registry=REGISTRY,
)
SEND_FAILURES = Counter(
    "logmonitor_send_failures", "Attempts to write a message that the broker did not accept, by topic "
    "(forwarded errors and dead letters are sent again).", ["topic"], registry=REGISTRY,
)
WRITES_REFUSED = Counter(
    "logmonitor_writes_refused", "Messages still refused after the retries, by topic; the worker stops without "
    "committing past them.", ["topic"], registry=REGISTRY,
)
EVENT_LOOP_LAG = Histogram(
    "logmonitor_event_loop_lag_seconds", "How late the event loop woke a task sleeping 0.25 s: the wait every "
    "request and record had behind slow work on the loop.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), registry=REGISTRY,
)
