"""Settings from the environment: defaults, durations, and one clear error per bad value."""

from __future__ import annotations

from datetime import timedelta

import pytest

from logmonitor.ingest.settings import IngestSettings
from logmonitor.settings import ConfigError, KafkaSecurity, Settings, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [("500ms", 0.5), ("90s", 90), ("15m", 900), ("24h", 86400),
                                               ("3d", 259200), ("1w", 604800), ("45", 45), (" 2.5h ", 9000)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0s", "-5m", "ten minutes", "3y", "nan"])
def test_bad_durations_name_the_setting(text: str) -> None:
    with pytest.raises(ConfigError, match="LOGMONITOR_WINDOW_RETENTION"):
        parse_duration(text, name="LOGMONITOR_WINDOW_RETENTION")


def test_defaults_follow_the_design() -> None:
    settings = Settings.from_env({})
    assert settings.bootstrap_servers == "localhost:9092" and settings.web_port == 5004
    assert (settings.logs_topic, settings.errors_topic, settings.dlq_topic, settings.alerts_topic) == (
        "application-logs", "application-logs-errors", "application-logs-dlq", "application-logs-alerts")
    assert settings.store == "memory://" and settings.web_host == "127.0.0.1"
    assert settings.auth_token is None and settings.cors_origins == ()
    assert (settings.shutdown_timeout, settings.window_sweep_interval, settings.broker_wait) == (
        timedelta(seconds=8), timedelta(seconds=30), timedelta(seconds=10))


def test_the_intervals_tests_wait_on_are_settings() -> None:
    settings = Settings.from_env({"LOGMONITOR_SHUTDOWN_TIMEOUT": "3s", "LOGMONITOR_WINDOW_SWEEP_INTERVAL": "2s",
                                  "LOGMONITOR_BROKER_WAIT": "1s", "LOGMONITOR_SESSION_TIMEOUT": "6s"})
    assert (settings.shutdown_timeout, settings.window_sweep_interval, settings.broker_wait,
            settings.session_timeout) == (timedelta(seconds=3), timedelta(seconds=2), timedelta(seconds=1),
                                          timedelta(seconds=6))
    assert IngestSettings.from_env({"LOGMONITOR_BROKER_WAIT": "1s"}).broker_wait == timedelta(seconds=1)


def test_environment_overrides() -> None:
    settings = Settings.from_env({
        "KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "LOG_MONITOR_SERVER_PORT": "6000",
        "LOGMONITOR_PARTITIONS": "12", "LOGMONITOR_WINDOW_RETENTION": "2h", "LOGMONITOR_STORE": "rocksdb://",
        "LOGMONITOR_CORS_ORIGINS": "https://a.example, https://b.example", "LOGMONITOR_AUTH_TOKEN": "t",
    })
    assert settings.broker_url == "kafka://k1:9092;kafka://k2:9092"
    assert settings.web_port == 6000 and settings.partitions == 12
    assert settings.window_retention == timedelta(hours=2) and settings.store == "rocksdb://"
    assert settings.cors_origins == ("https://a.example", "https://b.example") and settings.auth_token == "t"


@pytest.mark.parametrize(("env", "named"), [
    ({"LOG_MONITOR_SERVER_PORT": "web"}, "LOG_MONITOR_SERVER_PORT"),
    ({"LOGMONITOR_PARTITIONS": "0"}, "LOGMONITOR_PARTITIONS"),
    ({"LOGMONITOR_STORE": "redis://"}, "LOGMONITOR_STORE"),
    ({"LOGMONITOR_LOGS_RETENTION": "forever"}, "LOGMONITOR_LOGS_RETENTION"),
    ({"LOGMONITOR_SHUTDOWN_TIMEOUT": "soon"}, "LOGMONITOR_SHUTDOWN_TIMEOUT"),
    ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
])
def test_each_bad_value_is_one_error_naming_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


def test_security_settings_pass_through() -> None:
    security = KafkaSecurity.from_env({"KAFKA_SECURITY_PROTOCOL": "sasl_plaintext", "KAFKA_SASL_MECHANISM": "PLAIN",
                                       "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"})
    assert security.protocol == "SASL_PLAINTEXT" and security.ssl_context() is None
    options = security.aiokafka_options()
    assert options["sasl_plain_username"] == "u" and options["security_protocol"] == "SASL_PLAINTEXT"


def test_bounds_have_defaults_and_limits() -> None:
    defaults = Settings.from_env({})
    assert (defaults.max_services, defaults.ring_bytes, defaults.service_retention) == (
        1000, 4 * 1024 * 1024, timedelta(days=30))
    assert Settings.from_env({"LOGMONITOR_MAX_SERVICES": "20"}).max_services == 20
    for name, value in [("LOGMONITOR_MAX_SERVICES", "0"), ("LOGMONITOR_MAX_SERVICES", "20001"),
                        ("LOGMONITOR_RING_BYTES", "1000")]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})
