"""The handler's release and environment: arguments, LOGMONITOR_* variables, then OTEL_RESOURCE_ATTRIBUTES."""

from __future__ import annotations

import pytest

from logmonitor.handler.deployment import Deployment, deployment_of
from logmonitor.handler.otel_resource import MAX_RESOURCE_TEXT, ResourceAttributesError, parse_resource_attributes

OTEL = {"OTEL_RESOURCE_ATTRIBUTES": "service.name=pay,service.version=1.4.0,deployment.environment.name=prod"}


def test_arguments_win_over_every_variable() -> None:
    env = {**OTEL, "LOGMONITOR_RELEASE": "2.0", "LOGMONITOR_ENVIRONMENT": "staging"}
    assert deployment_of("3.0", "canary", env) == Deployment("3.0", "canary")


def test_logmonitor_variables_win_over_the_opentelemetry_resource() -> None:
    env = {**OTEL, "LOGMONITOR_RELEASE": "2.0", "LOGMONITOR_ENVIRONMENT": "staging"}
    assert deployment_of(None, None, env) == Deployment("2.0", "staging")
    assert deployment_of(None, None, {**OTEL, "LOGMONITOR_RELEASE": "2.0"}) == Deployment("2.0", "prod")


def test_the_opentelemetry_resource_gives_what_nothing_else_does() -> None:
    assert deployment_of(None, None, OTEL) == Deployment("1.4.0", "prod")
    older = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=qa"}
    assert deployment_of(None, None, older) == Deployment(None, "qa")
    both = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=old, deployment.environment.name=new"}
    assert deployment_of(None, None, both).environment == "new", "the current attribute wins over the older one"


def test_nothing_set_is_no_release_and_no_environment() -> None:
    assert deployment_of(None, None, {}) == Deployment(None, None)
    assert deployment_of(None, None, {"LOGMONITOR_RELEASE": "", "OTEL_RESOURCE_ATTRIBUTES": ""}) == (None, None)


@pytest.mark.parametrize(("release", "env"), [
    (" ", {}), ("r" * 257, {}), (None, {"LOGMONITOR_RELEASE": "r" * 257}), (None, {"LOGMONITOR_RELEASE": "  "}),
])
def test_an_unusable_release_given_to_the_handler_is_refused_at_once(release: str | None, env: dict[str, str]
                                                                      ) -> None:
    with pytest.raises(ValueError, match="at most 256"):
        deployment_of(release, None, env)


def test_unusable_opentelemetry_values_are_left_out_and_an_unreadable_variable_is_said_once(
        capsys: pytest.CaptureFixture[str]) -> None:
    env = {"OTEL_RESOURCE_ATTRIBUTES": f"service.version={'v' * 300},deployment.environment.name=%20"}
    assert deployment_of(None, None, env) == Deployment(None, None)
    assert deployment_of(None, None, {"OTEL_RESOURCE_ATTRIBUTES": "service.version=1,broken"}) == (None, None)
    assert capsys.readouterr().err.count("OTEL_RESOURCE_ATTRIBUTES is not used") == 1


@pytest.mark.parametrize(("text", "expected"), [
    ("a=1,b=2", {"a": "1", "b": "2"}),
    (" a = 1 , b=2,", {"a": "1", "b": "2"}),
    ("service.version=1.0%2Bbuild%2C7", {"service.version": "1.0+build,7"}),
    ("k=caf%C3%A9%20bar", {"k": "café bar"}),
    ("k=a=b", {"k": "a=b"}),
    ("k=", {"k": ""}),
    ("k=1,k=2", {"k": "2"}),
    ("k=100%", {"k": "100%"}),
    ("", {}),
])
def test_resource_attributes_are_read_as_the_specification_says(text: str, expected: dict[str, str]) -> None:
    assert parse_resource_attributes(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=1", " =1,a=2", "a=1,,b", "k=%FF%FE", "a=" + "x" * MAX_RESOURCE_TEXT])
def test_an_unreadable_resource_is_refused_whole(text: str) -> None:
    with pytest.raises(ResourceAttributesError):
        parse_resource_attributes(text)
