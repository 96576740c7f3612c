"""The ingest server's settings: defaults for the local run, the worker's Kafka variables, the network refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from logmonitor.ingest.settings import DEFAULT_SERVICE_LABELS, IngestSettings, LokiLabels
from logmonitor.settings import ConfigError, Settings


def test_defaults_listen_on_loopback_at_the_otlp_port() -> None:
    settings = IngestSettings.from_env({})
    assert (settings.host, settings.port, settings.url) == ("127.0.0.1", 4318, "http://127.0.0.1:4318")
    assert settings.token is None and settings.exposure_refusal() is None
    assert settings.loki_labels.service == DEFAULT_SERVICE_LABELS == ("service_name", "service", "app", "job")
    assert settings.loki_labels == LokiLabels()
    assert settings.produce_timeout == timedelta(seconds=10)


def test_kafka_and_topics_come_from_the_workers_variables() -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "k1:9093,k2:9093", "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
           "KAFKA_SASL_USERNAME": "u", "LOGMONITOR_TOPIC_LOGS": "logs", "LOGMONITOR_TOPIC_DLQ": "dlq"}
    ingest, worker = IngestSettings.from_env(env), Settings.from_env(env)
    assert (ingest.bootstrap_servers, ingest.security) == (worker.bootstrap_servers, worker.security)
    assert (ingest.logs_topic, ingest.dlq_topic) == (worker.logs_topic, worker.dlq_topic) == ("logs", "dlq")


def test_limits_and_labels_are_read_and_checked() -> None:
    settings = IngestSettings.from_env({
        "LOGMONITOR_INGEST_MAX_BODY_BYTES": "2048", "LOGMONITOR_INGEST_MAX_IN_FLIGHT_BYTES": "4096",
        "LOGMONITOR_INGEST_PRODUCE_TIMEOUT": "500ms", "LOGMONITOR_INGEST_LOKI_SERVICE_LABELS": " svc , ,app",
        "LOGMONITOR_INGEST_LOKI_RELEASE_LABELS": "git_sha", "LOGMONITOR_INGEST_LOKI_ENVIRONMENT_LABELS": "stage, env"})
    assert (settings.max_body_bytes, settings.max_in_flight_bytes) == (2048, 4096)
    assert settings.produce_timeout == timedelta(milliseconds=500)
    assert settings.loki_labels == LokiLabels(("svc", "app"), ("git_sha",), ("stage", "env"))
    with pytest.raises(ConfigError, match="LOGMONITOR_INGEST_PORT"):
        IngestSettings.from_env({"LOGMONITOR_INGEST_PORT": "70000"})
    with pytest.raises(ConfigError, match="LOGMONITOR_INGEST_MAX_BODY_BYTES"):
        IngestSettings.from_env({"LOGMONITOR_INGEST_MAX_BODY_BYTES": "lots"})


def test_a_network_address_without_a_token_is_refused_unless_allowed() -> None:
    refusal = IngestSettings.from_env({"LOGMONITOR_INGEST_HOST": "0.0.0.0"}).exposure_refusal()
    assert refusal is not None and "LOGMONITOR_INGEST_HOST=0.0.0.0" in refusal and "LOGMONITOR_INGEST_TOKEN" in refusal
    with_token = IngestSettings.from_env({"LOGMONITOR_INGEST_HOST": "0.0.0.0", "LOGMONITOR_INGEST_TOKEN": "t"})
    assert with_token.exposure_refusal() is None and not with_token.anonymous_on_network
    allowed = IngestSettings.from_env({"LOGMONITOR_INGEST_HOST": "0.0.0.0", "LOGMONITOR_ALLOW_ANONYMOUS": "true"})
    assert allowed.exposure_refusal() is None and allowed.anonymous_on_network


def test_the_workers_refusal_still_names_its_own_variables() -> None:
    refusal = Settings.from_env({"LOG_MONITOR_SERVER_HOST": "0.0.0.0"}).exposure_refusal()
    assert refusal is not None and "LOG_MONITOR_SERVER_HOST=0.0.0.0" in refusal and "LOGMONITOR_AUTH_TOKEN" in refusal
