"""What is open by default: the start-up decision on an API without a token, and what is logged of notifier URLs."""

from __future__ import annotations

import pytest

from logmonitor.alerts.notifiers import DeliveryError, build_notifier, url_origin
from logmonitor.alerts.rules import NotifierConfig
from logmonitor.commands.cli import check_exposure
from logmonitor.settings import ConfigError, Settings
from tests.fixtures.ports import free_port

SLACK_PATH = "/services/T000/B000/XXXXsecretXXXX"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "192.168.0.7", "logmonitor", "::ffff:127.0.0.1"])
def test_a_network_bind_without_a_token_is_refused_with_what_to_do(host: str) -> None:
    refusal = Settings.from_env({"LOG_MONITOR_SERVER_HOST": host}).exposure_refusal()
    assert refusal is not None
    assert f"LOG_MONITOR_SERVER_HOST={host}" in refusal
    assert "LOGMONITOR_AUTH_TOKEN" in refusal and "LOGMONITOR_ALLOW_ANONYMOUS=true" in refusal


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost", "LOCALHOST"])
def test_a_loopback_bind_needs_no_token(host: str) -> None:
    settings = Settings.from_env({"LOG_MONITOR_SERVER_HOST": host})
    assert settings.exposure_refusal() is None and not settings.anonymous_on_network


def test_a_token_or_an_explicit_allowance_lets_a_network_bind_start() -> None:
    with_token = Settings.from_env({"LOG_MONITOR_SERVER_HOST": "0.0.0.0", "LOGMONITOR_AUTH_TOKEN": "t"})
    assert with_token.exposure_refusal() is None and not with_token.anonymous_on_network
    allowed = Settings.from_env({"LOG_MONITOR_SERVER_HOST": "0.0.0.0", "LOGMONITOR_ALLOW_ANONYMOUS": "true"})
    assert allowed.exposure_refusal() is None and allowed.anonymous_on_network, "allowed, and warned about"
    not_allowed = Settings.from_env({"LOG_MONITOR_SERVER_HOST": "0.0.0.0", "LOGMONITOR_ALLOW_ANONYMOUS": "false"})
    assert not_allowed.exposure_refusal() is not None


@pytest.mark.parametrize("args", [["worker", "--web-bind", "0.0.0.0"], ["worker", "--web-bind=0.0.0.0"],
                                  ["worker", "-l", "info", "-b", "10.0.0.1"], ["worker", "-b0.0.0.0"]])
def test_a_bind_on_the_command_line_is_checked_too(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        check_exposure(Settings.from_env({}), args)
    assert refused.value.code == 2 and "LOGMONITOR_AUTH_TOKEN" in capsys.readouterr().err
    check_exposure(Settings.from_env({"LOGMONITOR_AUTH_TOKEN": "t"}), args)
    check_exposure(Settings.from_env({"LOG_MONITOR_SERVER_HOST": "0.0.0.0"}), ["worker", "-b", "127.0.0.1"])


def test_bad_allowance_and_sse_cap_values_name_their_variable() -> None:
    with pytest.raises(ConfigError, match="LOGMONITOR_ALLOW_ANONYMOUS"):
        Settings.from_env({"LOGMONITOR_ALLOW_ANONYMOUS": "maybe"})
    with pytest.raises(ConfigError, match="LOGMONITOR_SSE_MAX_CLIENTS"):
        Settings.from_env({"LOGMONITOR_SSE_MAX_CLIENTS": "0"})
    assert Settings.from_env({}).sse_max_clients == 100
    assert Settings.from_env({"LOGMONITOR_SSE_MAX_CLIENTS": "2"}).sse_max_clients == 2


@pytest.mark.parametrize(("url", "origin"), [
    ("https://hooks.slack.com" + SLACK_PATH, "https://hooks.slack.com"),
    ("http://user:pw@127.0.0.1:8080/hook?token=abc", "http://127.0.0.1:8080"),
    ("https://[::1]:9443/x", "https://[::1]:9443"),
])
def test_only_scheme_and_host_of_a_url_may_be_logged(url: str, origin: str) -> None:
    assert url_origin(url) == origin


def test_a_notifier_config_does_not_show_its_url_or_headers() -> None:
    config = NotifierConfig("chat", "slack", {"url": "https://hooks.slack.com" + SLACK_PATH, "timeout": 1.0})
    assert SLACK_PATH not in repr(config) and "hooks.slack.com" not in repr(config)


async def test_a_failed_post_names_scheme_and_host_only() -> None:
    url = f"http://127.0.0.1:{free_port()}{SLACK_PATH}?token=abc"
    notifier = build_notifier(NotifierConfig("chat", "slack", {"url": url, "timeout": 2.0}))
    alert = {"status": "firing", "title": "t", "text": "x", "rule": "r", "service": "s", "started_at": "now"}
    with pytest.raises(DeliveryError) as failure:
        await notifier.send(alert)
    message = str(failure.value)
    assert message.startswith(f"chat: {url_origin(url)}: cannot connect")
    assert "secret" not in message and "token" not in message and "/services" not in message
