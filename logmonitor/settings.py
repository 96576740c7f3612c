"""The worker's configuration, read once from the environment."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

__all__ = [
    "MIB", "ConfigError", "KafkaSecurity", "Settings", "env_duration", "env_flag", "env_int", "env_list",
    "exposure_refusal",
    "format_duration", "is_loopback", "parse_duration",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MIB = 1024 * 1024
# Each partition's admitted services are one table cell, rewritten at every batch: even in one
# partition, 20,000 names of up to 256 characters stay under the changelogs' 8 MiB per message.
MAX_SERVICES_LIMIT = 20_000
# A service's admitted error groups live in its profile, rewritten at every batch: 100,000
# fingerprints (about 40 bytes each) stay well under the 8 MiB too.
MAX_GROUPS_LIMIT = 100_000


class ConfigError(ValueError):
    """An environment variable holds a value logmonitor cannot use."""


def parse_duration(text: str, *, name: str = "duration") -> timedelta:
    """Parse ``"500ms"``, ``"90s"``, ``"15m"``, ``"24h"``, ``"3d"``, ``"1w"`` or plain seconds.

    Args:
        text: the value to parse.
        name: the setting's name, used in the error message.

    Returns:
        The duration.

    Raises:
        ConfigError: the text is not a positive duration.
    """
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"{name}={text!r} is not a duration such as 90s, 15m, 24h or 3d")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"])


def format_duration(span: timedelta | float) -> str:
    """The inverse of :func:`parse_duration`, in words: ``90`` → ``"1m 30s"``, ``timedelta(days=3)`` → ``"3d"``."""
    seconds = int(span.total_seconds() if isinstance(span, timedelta) else span)
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return " ".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


@dataclass(frozen=True)
class KafkaSecurity:
    """TLS/SASL settings passed through to every Kafka client (worker and handler).

    Reads ``KAFKA_SECURITY_PROTOCOL`` (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL),
    ``KAFKA_SASL_MECHANISM``, ``KAFKA_SASL_USERNAME``, ``KAFKA_SASL_PASSWORD``,
    ``KAFKA_SSL_CAFILE``, ``KAFKA_SSL_CERTFILE`` and ``KAFKA_SSL_KEYFILE``.
    """

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KafkaSecurity:
        """Read the security settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        protocol = env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
        if protocol not in {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}:
            raise ConfigError(
                f"KAFKA_SECURITY_PROTOCOL={protocol!r}: use PLAINTEXT, SSL, SASL_PLAINTEXT "
                "or SASL_SSL"
            )
        return cls(
            protocol=protocol,
            sasl_mechanism=env.get("KAFKA_SASL_MECHANISM") or None,
            sasl_username=env.get("KAFKA_SASL_USERNAME") or None,
            sasl_password=env.get("KAFKA_SASL_PASSWORD") or None,
            ssl_cafile=env.get("KAFKA_SSL_CAFILE") or None,
            ssl_certfile=env.get("KAFKA_SSL_CERTFILE") or None,
            ssl_keyfile=env.get("KAFKA_SSL_KEYFILE") or None,
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for SSL and SASL_SSL, else None."""
        if self.protocol not in {"SSL", "SASL_SSL"}:
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def aiokafka_options(self) -> dict[str, object]:
        """Keyword arguments for aiokafka clients (producer, consumer, admin)."""
        options: dict[str, object] = {"security_protocol": self.protocol}
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        if self.protocol.startswith("SASL"):
            options["sasl_mechanism"] = self.sasl_mechanism or "PLAIN"
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password
        return options


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1, maximum: int | None = None) -> int:
    """The integer setting ``name`` of ``env`` within ``minimum..maximum``, or ``default`` when unset."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={value} must be at most {maximum}")
    return value


def env_duration(env: Mapping[str, str], name: str, default: str) -> timedelta:
    """The duration setting ``name`` of ``env`` (``30s``, ``5m``, ``7d``), or ``default`` when unset."""
    return parse_duration(env.get(name) or default, name=name)


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """The true/false setting ``name`` of ``env`` (unset is false)."""
    raw = env.get(name, "").strip().lower()
    if raw in {"", "0", "false", "no"}:
        return False
    if raw in {"1", "true", "yes"}:
        return True
    raise ConfigError(f"{name}={raw!r}: use true or false")


def _label(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if len(raw) > 128 or not raw.isprintable():
        raise ConfigError(f"{name}: at most 128 printable characters")
    return raw or None


def env_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """The comma-separated values of variable ``name``, stripped, empty ones left out."""
    return tuple(value.strip() for value in env.get(name, "").split(",") if value.strip())


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only: ``localhost``, 127.0.0.0/8 or ``::1``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve to any interface


def exposure_refusal(host: str, token: str | None, allow_anonymous: bool, *, host_variable: str,
                     token_variable: str) -> str | None:
    """Why a server must not start on ``host`` (open to the network without a token), or None.

    Args:
        host: the address it listens on.
        token: the token its clients must send, if any.
        allow_anonymous: ``LOGMONITOR_ALLOW_ANONYMOUS``.
        host_variable: the variable that set ``host``, named in the refusal.
        token_variable: the variable that sets ``token``, named in the refusal.
    """
    if token or is_loopback(host) or allow_anonymous:
        return None
    return (
        f"{host_variable}={host} serves the API to other machines, and {token_variable} is not set: set a "
        "token (e.g. `openssl rand -hex 32`), listen on 127.0.0.1, or set LOGMONITOR_ALLOW_ANONYMOUS=true "
        "to serve it to anyone who can reach it"
    )


@dataclass(frozen=True)
class Settings:
    """Everything the worker reads from the environment, validated once.

    Environment variables (defaults in brackets):

    - ``KAFKA_BOOTSTRAP_SERVERS`` [localhost:9092]; TLS/SASL see :class:`KafkaSecurity`
    - ``LOG_MONITOR_SERVER_PORT`` [5004], ``LOG_MONITOR_SERVER_HOST`` [127.0.0.1]: where the web server listens
    - ``LOG_MONITOR_ADVERTISED_HOST`` [the listen host; the host name when that is 0.0.0.0]: how the
      other workers of the app reach this one
    - ``LOGMONITOR_APP_ID`` [logmonitor]: consumer group and changelog prefix
    - ``LOGMONITOR_TOPIC_LOGS`` [application-logs], ``LOGMONITOR_TOPIC_ERRORS``
      [application-logs-errors], ``LOGMONITOR_TOPIC_DLQ`` [application-logs-dlq],
      ``LOGMONITOR_TOPIC_ALERTS`` [application-logs-alerts], ``LOGMONITOR_TOPIC_COMMANDS``
      [application-logs-commands]: error-group status changes on their way to the owning worker,
      ``LOGMONITOR_TOPIC_REPARTITION`` [the logs topic's name + ``-repartition``]: records read off their
      service's home partition, on their way there
    - ``LOGMONITOR_PARTITIONS`` [8], ``LOGMONITOR_REPLICATION_FACTOR`` [1]
    - ``LOGMONITOR_LOGS_RETENTION`` [3d], ``LOGMONITOR_ERRORS_RETENTION`` [30d],
      ``LOGMONITOR_DLQ_RETENTION`` [7d]: topic retention
    - ``LOGMONITOR_WINDOW_RETENTION`` [24h]: how long windowed counts are kept
    - ``LOGMONITOR_GROUP_RETENTION`` [30d]: error groups unseen for this long are removed
    - ``LOGMONITOR_SERVICE_RETENTION`` [30d]: services unseen for this long are removed, with their
      recent errors, error groups and alert state
    - ``LOGMONITOR_MAX_SERVICES`` [1000, at most 20000]: distinct services kept (each of the P source
      partitions admits ceil(N / P)); records of any other service are counted under ``_overflow``
    - ``LOGMONITOR_MAX_GROUPS_PER_SERVICE`` [1000, at most 100000]: error groups kept per service;
      errors of any other fingerprint are counted in the service's group ``_overflow``
    - ``LOGMONITOR_RING_BYTES`` [4194304 (4 MiB), at least 1 MiB]: recent errors kept per service, in
      record bytes (besides the 1,000 errors count), oldest dropped first
    - ``LOGMONITOR_ALERT_RULES`` [unset: the packaged default rules, no notifiers]: the alert rules file
    - ``LOGMONITOR_ALERT_INTERVAL`` [5s]: how often the alert rules are evaluated
    - ``LOGMONITOR_SESSION_TIMEOUT`` [30s; brokers accept 6s and up by default]: how soon the other
      workers take over a crashed one's partitions
    - ``LOGMONITOR_BROKER_WAIT`` [10s]: how long a starting worker waits for the cluster to answer
      before it gives up with one line
    - ``LOGMONITOR_SHUTDOWN_TIMEOUT`` [8s]: the longest a worker takes to stop once asked (SIGTERM);
      past it, it logs what held it and exits with status 70 (under ``docker stop``'s 10 s)
    - ``LOGMONITOR_WINDOW_SWEEP_INTERVAL`` [30s]: how often windows past their retention are dropped
    - ``LOGMONITOR_STORE`` [memory://] or ``rocksdb://``; ``LOGMONITOR_DATA_DIR`` [./logmonitor-data]
    - ``LOGMONITOR_AUTH_TOKEN`` [unset]: bearer/basic token for the HTTP API
    - ``LOGMONITOR_AUTH_TOKEN_LABEL`` [unset]: who the token's holder is, in error-group status histories
      (``anonymous`` when unset)
    - ``LOGMONITOR_ALLOW_ANONYMOUS`` [false]: ``true`` lets the worker serve the API without a token
      on an address other than loopback (it refuses to start otherwise)
    - ``LOGMONITOR_ALLOW_UNTESTED_ENGINE`` [false]: ``true`` lets the worker start on faust-streaming,
      mode-streaming or aiokafka versions other than the verified ones (logmonitor/engine/versions.py)
    - ``LOGMONITOR_SSE_MAX_CLIENTS`` [100]: concurrent live-feed (SSE) clients per worker; more get 503
    - ``LOGMONITOR_TAIL_MAX_CLIENTS`` [20]: concurrent followers of the live stream of every record
      (``logmonitor tail``) per worker; more get 503
    - ``LOGMONITOR_CORS_ORIGINS`` [unset]: comma-separated origins allowed by CORS (``*`` for any), and
      the only pages of other sites whose requests are answered
    - ``LOGMONITOR_ALLOWED_HOSTS`` [unset]: comma-separated names besides loopback ones (and the advertised
      host) that requests may be addressed to (``Host``) when there is no token: DNS rebinding
    - ``LOGMONITOR_GRAFANA_MAX_POINTS`` [100000]: the most values (series x points, table rows) one
      Grafana query may answer; larger queries get 400
    """

    bootstrap_servers: str = "localhost:9092"
    security: KafkaSecurity = field(default_factory=KafkaSecurity)
    web_port: int = 5004
    web_host: str = "127.0.0.1"
    advertised_host: str = "127.0.0.1"
    app_id: str = "logmonitor"
    logs_topic: str = "application-logs"
    errors_topic: str = "application-logs-errors"
    dlq_topic: str = "application-logs-dlq"
    alerts_topic: str = "application-logs-alerts"
    commands_topic: str = "application-logs-commands"
    repartition_topic: str = "application-logs-repartition"
    partitions: int = 8
    replication_factor: int = 1
    logs_retention: timedelta = timedelta(days=3)
    errors_retention: timedelta = timedelta(days=30)
    dlq_retention: timedelta = timedelta(days=7)
    window_retention: timedelta = timedelta(hours=24)
    group_retention: timedelta = timedelta(days=30)
    service_retention: timedelta = timedelta(days=30)
    max_services: int = 1000
    max_groups_per_service: int = 1000
    ring_bytes: int = 4 * MIB
    alert_rules: str | None = None
    alert_interval: timedelta = timedelta(seconds=5)
    session_timeout: timedelta = timedelta(seconds=30)
    broker_wait: timedelta = timedelta(seconds=10)
    shutdown_timeout: timedelta = timedelta(seconds=8)
    window_sweep_interval: timedelta = timedelta(seconds=30)
    store: str = "memory://"
    data_dir: str = "logmonitor-data"
    auth_token: str | None = None
    auth_token_label: str | None = None
    allow_anonymous: bool = False
    allow_untested_engine: bool = False
    sse_max_clients: int = 100
    tail_max_clients: int = 20
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    grafana_max_points: int = 100_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings from ``env`` (default: the process environment).

        Raises:
            ConfigError: a variable holds an unusable value; the message names it.
        """
        env = os.environ if env is None else env
        store = env.get("LOGMONITOR_STORE") or cls.store
        web_host = env.get("LOG_MONITOR_SERVER_HOST") or cls.web_host
        if store.split("://")[0] not in {"memory", "rocksdb"}:
            raise ConfigError(f"LOGMONITOR_STORE={store!r}: use memory:// or rocksdb://")
        return cls(
            bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS") or cls.bootstrap_servers,
            security=KafkaSecurity.from_env(env),
            web_port=env_int(env, "LOG_MONITOR_SERVER_PORT", cls.web_port),
            web_host=web_host,
            advertised_host=env.get("LOG_MONITOR_ADVERTISED_HOST") or (
                socket.gethostname() if web_host in ("0.0.0.0", "::") else web_host),
            app_id=env.get("LOGMONITOR_APP_ID") or cls.app_id,
            logs_topic=env.get("LOGMONITOR_TOPIC_LOGS") or cls.logs_topic,
            errors_topic=env.get("LOGMONITOR_TOPIC_ERRORS") or cls.errors_topic,
            dlq_topic=env.get("LOGMONITOR_TOPIC_DLQ") or cls.dlq_topic,
            alerts_topic=env.get("LOGMONITOR_TOPIC_ALERTS") or cls.alerts_topic,
            commands_topic=env.get("LOGMONITOR_TOPIC_COMMANDS") or cls.commands_topic,
            repartition_topic=env.get("LOGMONITOR_TOPIC_REPARTITION")
            or f"{env.get('LOGMONITOR_TOPIC_LOGS') or cls.logs_topic}-repartition",
            partitions=env_int(env, "LOGMONITOR_PARTITIONS", cls.partitions),
            replication_factor=env_int(env, "LOGMONITOR_REPLICATION_FACTOR", cls.replication_factor),
            logs_retention=env_duration(env, "LOGMONITOR_LOGS_RETENTION", "3d"),
            errors_retention=env_duration(env, "LOGMONITOR_ERRORS_RETENTION", "30d"),
            dlq_retention=env_duration(env, "LOGMONITOR_DLQ_RETENTION", "7d"),
            window_retention=env_duration(env, "LOGMONITOR_WINDOW_RETENTION", "24h"),
            group_retention=env_duration(env, "LOGMONITOR_GROUP_RETENTION", "30d"),
            service_retention=env_duration(env, "LOGMONITOR_SERVICE_RETENTION", "30d"),
            max_services=env_int(env, "LOGMONITOR_MAX_SERVICES", cls.max_services, maximum=MAX_SERVICES_LIMIT),
            max_groups_per_service=env_int(env, "LOGMONITOR_MAX_GROUPS_PER_SERVICE", cls.max_groups_per_service,
                                        maximum=MAX_GROUPS_LIMIT),
            ring_bytes=env_int(env, "LOGMONITOR_RING_BYTES", cls.ring_bytes, minimum=MIB),
            alert_rules=env.get("LOGMONITOR_ALERT_RULES") or None,
            alert_interval=env_duration(env, "LOGMONITOR_ALERT_INTERVAL", "5s"),
            session_timeout=env_duration(env, "LOGMONITOR_SESSION_TIMEOUT", "30s"),
            broker_wait=env_duration(env, "LOGMONITOR_BROKER_WAIT", "10s"),
            shutdown_timeout=env_duration(env, "LOGMONITOR_SHUTDOWN_TIMEOUT", "8s"),
            window_sweep_interval=env_duration(env, "LOGMONITOR_WINDOW_SWEEP_INTERVAL", "30s"),
            store=store,
            data_dir=env.get("LOGMONITOR_DATA_DIR") or cls.data_dir,
            auth_token=env.get("LOGMONITOR_AUTH_TOKEN") or None,
            auth_token_label=_label(env, "LOGMONITOR_AUTH_TOKEN_LABEL"),
            allow_anonymous=env_flag(env, "LOGMONITOR_ALLOW_ANONYMOUS"),
            allow_untested_engine=env_flag(env, "LOGMONITOR_ALLOW_UNTESTED_ENGINE"),
            sse_max_clients=env_int(env, "LOGMONITOR_SSE_MAX_CLIENTS", cls.sse_max_clients),
            tail_max_clients=env_int(env, "LOGMONITOR_TAIL_MAX_CLIENTS", cls.tail_max_clients),
            cors_origins=env_list(env, "LOGMONITOR_CORS_ORIGINS"),
            allowed_hosts=env_list(env, "LOGMONITOR_ALLOWED_HOSTS"),
            grafana_max_points=env_int(env, "LOGMONITOR_GRAFANA_MAX_POINTS", cls.grafana_max_points),
        )

    @property
    def anonymous_on_network(self) -> bool:
        """Whether the API would answer other machines without a token."""
        return not self.auth_token and not is_loopback(self.web_host)

    def exposure_refusal(self) -> str | None:
        """Why the web server must not start as configured (an API open to the network without a token), or None."""
        return exposure_refusal(self.web_host, self.auth_token, self.allow_anonymous,
                                host_variable="LOG_MONITOR_SERVER_HOST", token_variable="LOGMONITOR_AUTH_TOKEN")

    @property
    def broker_url(self) -> str:
        """The bootstrap servers as Faust's ``kafka://host:port;host:port`` URL."""
        hosts = [h.strip() for h in self.bootstrap_servers.split(",") if h.strip()]
        return ";".join(f"kafka://{host}" for host in hosts)

    @property
    def ticks_topic(self) -> str:
        """The internal topic whose per-partition ticks drive alert evaluation and group retention."""
        return f"{self.app_id}-alert-ticks"

    def topic_retention(self) -> dict[str, timedelta]:
        """Each topic the project owns, with its retention."""
        return {
            self.logs_topic: self.logs_retention,
            self.errors_topic: self.errors_retention,
            self.dlq_topic: self.dlq_retention,
            self.alerts_topic: self.errors_retention,
        }
