"""The ingest server's configuration, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from logmonitor.settings import (
    MIB,
    KafkaSecurity,
    Settings,
    env_duration,
    env_flag,
    env_int,
    env_list,
    exposure_refusal,
    is_loopback,
)

__all__ = ["DEFAULT_ENVIRONMENT_LABELS", "DEFAULT_RELEASE_LABELS", "DEFAULT_SERVICE_LABELS", "IngestSettings",
           "LokiLabels"]

# Loki's own default service detection, plus the labels Promtail and Alloy configs usually set.
DEFAULT_SERVICE_LABELS = ("service_name", "service", "app", "job")
# The names people give them, then OpenTelemetry's resource attributes as Loki's OTLP endpoint writes them.
DEFAULT_RELEASE_LABELS = ("release", "version", "service_version")
DEFAULT_ENVIRONMENT_LABELS = ("environment", "env", "deployment_environment_name", "deployment_environment")


@dataclass(frozen=True)
class LokiLabels:
    """The label names that give a Loki entry's service, release and environment; in each, the first present wins.

    The service is read from the stream's labels; release and environment from its labels or the
    entry's structured metadata (where Loki's OTLP endpoint puts resource attributes it does not index).
    """

    service: tuple[str, ...] = DEFAULT_SERVICE_LABELS
    release: tuple[str, ...] = DEFAULT_RELEASE_LABELS
    environment: tuple[str, ...] = DEFAULT_ENVIRONMENT_LABELS


@dataclass(frozen=True)
class IngestSettings:
    """Everything ``logmonitor ingest`` reads from the environment, validated once.

    Environment variables (defaults in brackets):

    - ``LOGMONITOR_INGEST_HOST`` [127.0.0.1], ``LOGMONITOR_INGEST_PORT`` [4318, OTLP/HTTP's port]: where it listens
    - ``LOGMONITOR_INGEST_TOKEN`` [unset]: the bearer/basic token shippers must send (every route but
      ``/health``); without it a non-loopback host refuses to start unless ``LOGMONITOR_ALLOW_ANONYMOUS=true``
    - ``LOGMONITOR_INGEST_MAX_BODY_BYTES`` [20971520 (20 MiB), as the Collector's OTLP receiver]: the
      largest request body, counted after decompression; larger ones get 413
    - ``LOGMONITOR_INGEST_MAX_IN_FLIGHT_BYTES`` [67108864 (64 MiB)]: request bytes held at once, from
      reading a body until Kafka acknowledged (or gave up on) its records; beyond it requests get 429
    - ``LOGMONITOR_INGEST_PRODUCE_TIMEOUT`` [10s]: how long a request waits for Kafka's acknowledgement
      before it gets 503
    - ``LOGMONITOR_INGEST_LOKI_SERVICE_LABELS`` [service_name,service,app,job]: the Loki labels that name
      the service, first present wins
    - ``LOGMONITOR_INGEST_LOKI_RELEASE_LABELS`` [release,version,service_version] and
      ``LOGMONITOR_INGEST_LOKI_ENVIRONMENT_LABELS``
      [environment,env,deployment_environment_name,deployment_environment]: the labels (or structured
      metadata) that name the release and the environment, first present wins
    - from the worker's settings: ``KAFKA_BOOTSTRAP_SERVERS`` [localhost:9092] and TLS/SASL (see
      :class:`~logmonitor.settings.KafkaSecurity`), ``LOGMONITOR_TOPIC_LOGS`` [application-logs],
      ``LOGMONITOR_TOPIC_DLQ`` [application-logs-dlq], ``LOGMONITOR_ALLOW_ANONYMOUS`` [false],
      ``LOGMONITOR_BROKER_WAIT`` [10s], ``LOGMONITOR_ALLOWED_HOSTS`` [unset]: names besides loopback ones
      (and the listen host) that requests may be addressed to when there is no token (DNS rebinding)
    """

    host: str = "127.0.0.1"
    port: int = 4318
    token: str | None = None
    allow_anonymous: bool = False
    max_body_bytes: int = 20 * MIB
    max_in_flight_bytes: int = 64 * MIB
    produce_timeout: timedelta = timedelta(seconds=10)
    loki_labels: LokiLabels = field(default_factory=LokiLabels)
    bootstrap_servers: str = Settings.bootstrap_servers
    security: KafkaSecurity = field(default_factory=KafkaSecurity)
    logs_topic: str = Settings.logs_topic
    dlq_topic: str = Settings.dlq_topic
    broker_wait: timedelta = Settings.broker_wait
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IngestSettings:
        """Read and validate the settings from ``env`` (default: the process environment).

        Raises:
            ConfigError: a variable holds an unusable value; the message names it.
        """
        env = os.environ if env is None else env
        return cls(
            host=env.get("LOGMONITOR_INGEST_HOST") or cls.host,
            port=env_int(env, "LOGMONITOR_INGEST_PORT", cls.port, maximum=65535),
            token=env.get("LOGMONITOR_INGEST_TOKEN") or None,
            allow_anonymous=env_flag(env, "LOGMONITOR_ALLOW_ANONYMOUS"),
            max_body_bytes=env_int(env, "LOGMONITOR_INGEST_MAX_BODY_BYTES", cls.max_body_bytes, minimum=1024),
            max_in_flight_bytes=env_int(env, "LOGMONITOR_INGEST_MAX_IN_FLIGHT_BYTES", cls.max_in_flight_bytes,
                                     minimum=1024),
            produce_timeout=env_duration(env, "LOGMONITOR_INGEST_PRODUCE_TIMEOUT", "10s"),
            loki_labels=LokiLabels(
                service=env_list(env, "LOGMONITOR_INGEST_LOKI_SERVICE_LABELS") or DEFAULT_SERVICE_LABELS,
                release=env_list(env, "LOGMONITOR_INGEST_LOKI_RELEASE_LABELS") or DEFAULT_RELEASE_LABELS,
                environment=env_list(env, "LOGMONITOR_INGEST_LOKI_ENVIRONMENT_LABELS") or DEFAULT_ENVIRONMENT_LABELS),
            bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS") or cls.bootstrap_servers,
            security=KafkaSecurity.from_env(env),
            logs_topic=env.get("LOGMONITOR_TOPIC_LOGS") or cls.logs_topic,
            dlq_topic=env.get("LOGMONITOR_TOPIC_DLQ") or cls.dlq_topic,
            broker_wait=env_duration(env, "LOGMONITOR_BROKER_WAIT", "10s"),
            allowed_hosts=env_list(env, "LOGMONITOR_ALLOWED_HOSTS"),
        )

    @property
    def url(self) -> str:
        """Where shippers send to, e.g. ``http://127.0.0.1:4318``."""
        return f"http://{self.host}:{self.port}"

    @property
    def anonymous_on_network(self) -> bool:
        """Whether the server would take records from other machines without a token."""
        return not self.token and not is_loopback(self.host)

    def exposure_refusal(self) -> str | None:
        """Why the server must not start as configured (open to the network without a token), or None."""
        return exposure_refusal(self.host, self.token, self.allow_anonymous,
                                host_variable="LOGMONITOR_INGEST_HOST", token_variable="LOGMONITOR_INGEST_TOKEN")
