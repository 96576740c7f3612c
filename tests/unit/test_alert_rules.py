"""The alert rules file: defaults, every kind, and one clear error per mistake."""

from __future__ import annotations

from datetime import timedelta

import pytest

from logmonitor.alerts.rules import KINDS, load_rules, parse_rules
from logmonitor.settings import ConfigError

GOOD = """
notifiers:
  ops: {type: webhook, url: "https://ops.example.com/hook", headers: {X-Token: "${OPS_TOKEN}"}}
  chat: {type: slack, url: "https://hooks.slack.com/services/T/B/X"}
  mail: {type: email, host: smtp.example.com, security: tls, username: a, password: "${SMTP_PASSWORD}",
         from: alerts@example.com, to: oncall@example.com}
retries: {attempts: 3, backoff: 2s, max_backoff: 5s}
rules:
  - {name: critical, kind: critical, notify: [ops]}
  - {name: spike, kind: error_rate, threshold: 100, window: 10m, services: ["booking*"], levels: [ERROR]}
  - {name: new, kind: new_group, cooldown: 1h}
  - {name: quiet, kind: silence, after: 15m}
"""
ENV = {"OPS_TOKEN": "t0ken", "SMTP_PASSWORD": "pw"}


def test_a_complete_file_is_read_with_defaults_filled_in() -> None:
    config = parse_rules(GOOD, "rules.yaml", ENV)
    critical, spike, new, quiet = config.rules
    assert critical.levels == ("CRITICAL",) and critical.notify == ("ops",)
    assert spike.threshold == 100 and spike.window == timedelta(minutes=10) and spike.levels == ("ERROR",)
    assert spike.watches("booking-api") and not spike.watches("payments")
    assert new.cooldown == timedelta(hours=1) and new.notify == ("ops", "chat", "mail"), "all notifiers by default"
    assert quiet.after == timedelta(minutes=15) and quiet.watches("anything")
    assert config.notifiers["ops"].options["headers"] == {"X-Token": "t0ken"}
    mail = config.notifiers["mail"].options
    assert mail["port"] == 465 and mail["to"] == ("oncall@example.com",) and mail["password"] == "pw"
    assert config.retries.attempts == 3 and [config.retries.wait(n) for n in (1, 2, 3)] == [2.0, 4.0, 5.0]


def test_the_packaged_defaults_alert_without_notifiers() -> None:
    config = load_rules(None)
    assert sorted(rule.kind for rule in config.rules) == sorted(KINDS), "every kind, once (docs/alerting.md)"
    assert not config.notifiers and all(rule.notify == () for rule in config.rules)


@pytest.mark.parametrize(("text", "message"), [
    ("rules: [", "rules.yaml: not valid YAML"),
    ("- just a list", "rules.yaml: must be a mapping"),
    ("rule: []", "rules.yaml: unknown field 'rule'"),
    ("rules: {name: x}", "rules.yaml: rules must be a list"),
    ("rules: [{kind: critical}]", "rules.yaml: rules[0].name: a non-empty string is required"),
    ("rules: [{name: 'a b', kind: critical}]", "rules.yaml: rules[0].name: 'a b' must be letters"),
    ("rules: [{name: x, kind: spike}]", "rules.yaml: rules[0].kind: 'spike' is not one of critical"),
    ("rules: [{name: x, kind: error_rate}]", "rules.yaml: rules[0].threshold: a whole number >= 0 is required"),
    ("rules: [{name: x, kind: error_rate, threshold: -1}]", "rules.yaml: rules[0].threshold: a whole number"),
    ("rules: [{name: x, kind: critical, threshold: 3}]", "rules.yaml: rules[0]: 'threshold' does not apply"),
    ("rules: [{name: x, kind: silence, levels: [ERROR]}]", "rules.yaml: rules[0]: 'levels' does not apply"),
    ("rules: [{name: x, kind: critical, levels: [FATAL]}]", "rules.yaml: rules[0].levels: 'FATAL' is not one of"),
    ("rules: [{name: x, kind: silence, after: soon}]", "rules.yaml: rules[0].after='soon' is not a duration"),
    ("rules: [{name: x, kind: critical, notify: [pager]}]", "rules.yaml: rules[0].notify: no notifier named 'pager'"),
    ("rules: [{name: x, kind: critical, colour: red}]", "rules.yaml: rules[0]: unknown field 'colour'"),
    ("rules: [{name: x, kind: critical}, {name: x, kind: silence}]", "rules.yaml: rule names must be unique: x"),
    ("notifiers: {n: {type: pager}}", "rules.yaml: notifiers.n.type: 'pager' is not one of webhook"),
    ("notifiers: {n: {type: webhook, url: 'ftp://x'}}", "rules.yaml: notifiers.n.url: an http:// or https:// URL"),
    ("notifiers: {n: {type: webhook, url: 'http://x', to: a}}", "rules.yaml: notifiers.n: unknown field 'to'"),
    ("notifiers: {n: {type: webhook, url: 'http://x', timeout: 0}}", "rules.yaml: notifiers.n.timeout: a number"),
    ("notifiers: {n: {type: email, host: h, from: f}}", "rules.yaml: notifiers.n.to: at least one recipient"),
    ("notifiers: {n: {type: email, host: h, from: f, to: t, security: ssl}}", "notifiers.n.security: 'ssl' is not"),
    ("notifiers: {n: {type: email, host: h, from: f, to: t, username: u}}", "username and password go together"),
    ("notifiers: {n: {type: slack, url: 'http://x/${NOPE}'}}", "rules.yaml: environment variable NOPE is not set"),
    ("retries: {attempts: 0}", "rules.yaml: retries.attempts: a whole number from 1 to 100"),
    ("rules: [{name: x, kind: regression, factor: 3}]", "rules.yaml: rules[0]: 'factor' does not apply to kind"),
    ("rules: [{name: x, kind: error_rate, threshold: 1, min_volume: 3}]", "rules[0]: 'min_volume' does not apply"),
    ("rules: [{name: x, kind: escalating, factor: 1}]", "rules[0].factor: a number above 1 and at most 1000"),
    ("rules: [{name: x, kind: escalating, factor: 1001}]", "rules[0].factor: a number above 1 and at most 1000"),
    ("rules: [{name: x, kind: escalating, factor: .nan}]", "rules[0].factor: a number above 1"),
    ("rules: [{name: x, kind: escalating, factor: '5'}]", "rules[0].factor: a number above 1"),
    ("rules: [{name: x, kind: escalating, min_volume: 0}]", "rules[0].min_volume: a whole number from 1 to"),
    ("rules: [{name: x, kind: escalating, min_volume: 2.5}]", "rules[0].min_volume: a whole number from 1 to"),
    ("rules: [{name: x, kind: escalating, min_volume: true}]", "rules[0].min_volume: a whole number from 1 to"),
])
def test_each_mistake_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_rules(text, "rules.yaml", {})
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_the_triage_rules_take_their_escalation_parameters_with_defaults() -> None:
    text = """
rules:
  - {name: back, kind: regression, cooldown: 10m, services: ["pay*"]}
  - {name: spiking, kind: escalating, factor: 2.5, min_volume: 20, levels: [CRITICAL]}
  - {name: spiking-default, kind: escalating}
"""
    back, spiking, default = parse_rules(text, "rules.yaml", {}).rules
    assert back.kind == "regression" and back.levels == ("ERROR", "CRITICAL") and back.watches("payments")
    assert (spiking.factor, spiking.min_volume, spiking.levels) == (2.5, 20, ("CRITICAL",))
    assert (default.factor, default.min_volume) == (5.0, 50)


def test_a_missing_file_names_the_variable() -> None:
    with pytest.raises(ConfigError) as raised:
        load_rules("/nonexistent/rules.yaml")
    assert str(raised.value) == "LOGMONITOR_ALERT_RULES='/nonexistent/rules.yaml': No such file or directory"
