"""The alert rules file: rules, notifiers and their validation.

The file (YAML; ``LOGMONITOR_ALERT_RULES``) has these sections::

    notifiers:
      ops: {type: webhook, url: "https://ops.example.com/hook", headers: {X-Token: "${OPS_TOKEN}"}}
      chat: {type: slack, url: "https://hooks.slack.com/services/..."}
      mail: {type: email, host: smtp.example.com, port: 587, security: starttls,
             username: alerts, password: "${SMTP_PASSWORD}", from: alerts@example.com, to: [oncall@example.com]}
    retries: {attempts: 8, backoff: 1s, max_backoff: 1m}   # optional; these are the defaults
    rules:
      - {name: critical, kind: critical, notify: [ops, chat, mail]}
      - {name: error-rate, kind: error_rate, threshold: 100, window: 5m, services: ["booking*"]}
      - {name: new-error, kind: new_group, cooldown: 10m}
      - {name: silent, kind: silence, after: 10m}
      - {name: came-back, kind: regression}
      - {name: spiking, kind: escalating, factor: 5, min_volume: 50}

``${NAME}`` in any string is replaced by that environment variable (an unset one is an error).
Every mistake is reported as one :class:`~logmonitor.settings.ConfigError` naming the place.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from logmonitor.levels import ERROR_LEVELS, LEVELS
from logmonitor.settings import ConfigError, parse_duration
from logmonitor.triage.escalation import FACTOR, MIN_VOLUME

__all__ = ["KINDS", "AlertConfig", "NotifierConfig", "Retries", "Rule", "load_rules", "parse_rules"]

KINDS = ("critical", "error_rate", "new_group", "silence", "regression", "escalating")
NOTIFIER_TYPES = ("webhook", "slack", "email")
SECURITY = ("starttls", "tls", "none")
_ERRORS = tuple(level for level in LEVELS if level in ERROR_LEVELS)  # ("ERROR", "CRITICAL")
_DEFAULT_LEVELS = {"critical": ("CRITICAL",), "error_rate": _ERRORS, "new_group": _ERRORS, "regression": _ERRORS,
                   "escalating": _ERRORS}
_MAX_FACTOR, _MAX_VOLUME = 1000, 10**9
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Rule:
    """One alert rule; ``kind`` decides which of ``threshold``/``window``/``after``/``factor``/``min_volume`` apply."""

    name: str
    kind: str
    services: tuple[str, ...] = ("*",)
    levels: tuple[str, ...] = ()
    threshold: int = 0
    window: timedelta = timedelta(minutes=5)
    after: timedelta = timedelta(minutes=10)
    cooldown: timedelta = timedelta(minutes=5)
    notify: tuple[str, ...] = ()
    factor: float = FACTOR
    min_volume: int = MIN_VOLUME

    def watches(self, service: str) -> bool:
        """Whether the rule's service filter (glob patterns) lets ``service`` through."""
        return any(fnmatch.fnmatchcase(service, pattern) for pattern in self.services)


@dataclass(frozen=True)
class NotifierConfig:
    """Where and how one notifier delivers; ``options`` holds the type's fields, checked."""

    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)  # URLs, headers and passwords are secrets


@dataclass(frozen=True)
class Retries:
    """How a failed delivery is retried: ``attempts`` in all, waiting ``backoff`` doubling up to ``max_backoff``."""

    attempts: int = 8
    backoff: timedelta = timedelta(seconds=1)
    max_backoff: timedelta = timedelta(minutes=1)

    def wait(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.backoff.total_seconds() * 2 ** (attempt - 1), self.max_backoff.total_seconds()))


@dataclass(frozen=True)
class AlertConfig:
    """A validated rules file."""

    rules: tuple[Rule, ...]
    notifiers: Mapping[str, NotifierConfig]
    source: str
    retries: Retries = Retries()


def load_rules(path: str | None) -> AlertConfig:
    """Read and validate the rules file at ``path``; the packaged defaults when ``path`` is None.

    Raises:
        ConfigError: the file is missing, not YAML, or breaks a rule; the message says where.
    """
    if path is None:
        text = resources.files("logmonitor.alerts").joinpath("default-rules.yaml").read_text()
        return parse_rules(text, "default rules")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"LOGMONITOR_ALERT_RULES={path!r}: {error.strerror or error}") from None
    return parse_rules(text, path)


def parse_rules(text: str, source: str, env: Mapping[str, str] | None = None) -> AlertConfig:
    """Validate the YAML ``text`` of a rules file (``source`` names it in errors)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}".splitlines()[0]) from None
    document = _expand(document if document is not None else {}, os.environ if env is None else env, source)
    top = _mapping(document, source, allowed={"notifiers", "rules", "retries"})
    notifiers = {
        name: _notifier(name, spec, f"{source}: notifiers.{name}")
        for name, spec in _mapping(top.get("notifiers") or {}, f"{source}: notifiers").items()
    }
    raw_rules = top.get("rules") or []
    if not isinstance(raw_rules, list):
        raise ConfigError(f"{source}: rules must be a list")
    rules = tuple(_rule(spec, f"{source}: rules[{index}]", notifiers) for index, spec in enumerate(raw_rules))
    names = [rule.name for rule in rules]
    if duplicated := sorted({name for name in names if names.count(name) > 1}):
        raise ConfigError(f"{source}: rule names must be unique: {', '.join(duplicated)}")
    return AlertConfig(rules=rules, notifiers=notifiers, source=source, retries=_retries(top.get("retries") or {},
                                                                                       f"{source}: retries"))


def _expand(value: Any, env: Mapping[str, str], source: str) -> Any:
    if isinstance(value, str):
        def variable(match: re.Match[str]) -> str:
            if match.group(1) not in env:
                raise ConfigError(f"{source}: environment variable {match.group(1)} is not set")
            return env[match.group(1)]
        return _VARIABLE.sub(variable, value)
    if isinstance(value, list):
        return [_expand(item, env, source) for item in value]
    if isinstance(value, dict):
        return {key: _expand(item, env, source) for key, item in value.items()}
    return value


def _mapping(value: Any, where: str, *, allowed: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a mapping")
    if allowed is not None and (unknown := sorted(str(key) for key in value if key not in allowed)):
        raise ConfigError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
    return value


def _text(spec: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = spec.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}.{key}: a non-empty string is required")
    return value


def _texts(spec: Mapping[str, Any], key: str, where: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = spec.get(key, list(default))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{where}.{key}: a list of strings is required")
    return tuple(value)


def _duration(spec: Mapping[str, Any], key: str, where: str, default: timedelta) -> timedelta:
    if key not in spec:
        return default
    return parse_duration(str(spec[key]), name=f"{where}.{key}")


def _retries(spec: Any, where: str) -> Retries:
    spec = _mapping(spec, where, allowed={"attempts", "backoff", "max_backoff"})
    attempts = spec.get("attempts", Retries.attempts)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 100:
        raise ConfigError(f"{where}.attempts: a whole number from 1 to 100 is required")
    return Retries(attempts=attempts, backoff=_duration(spec, "backoff", where, Retries.backoff),
                   max_backoff=_duration(spec, "max_backoff", where, Retries.max_backoff))


_RULE_FIELDS = {"name", "kind", "services", "levels", "threshold", "window", "after", "cooldown", "notify", "factor",
                "min_volume"}
_KIND_FIELDS = {"critical": set(), "error_rate": {"threshold", "window"}, "new_group": set(), "silence": {"after"},
                "regression": set(), "escalating": {"factor", "min_volume"}}
_PARAMETERS = {"threshold", "window", "after", "factor", "min_volume"}  # the fields only some kinds take


def _rule(spec: Any, where: str, notifiers: Mapping[str, NotifierConfig]) -> Rule:
    spec = _mapping(spec, where, allowed=_RULE_FIELDS)
    name = _text(spec, "name", where)
    if not _NAME.match(name):
        raise ConfigError(f"{where}.name: {name!r} must be letters, digits, '.', '_' or '-' (at most 64)")
    kind = _text(spec, "kind", where)
    if kind not in KINDS:
        raise ConfigError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
    misplaced = sorted(spec.keys() & (_PARAMETERS - _KIND_FIELDS[kind]))
    if misplaced or (kind == "silence" and "levels" in spec):
        raise ConfigError(f"{where}: {(misplaced or ['levels'])[0]!r} does not apply to kind {kind}")
    levels = _texts(spec, "levels", where, _DEFAULT_LEVELS.get(kind, ()))
    if bad := [level for level in levels if level not in LEVELS]:
        raise ConfigError(f"{where}.levels: {bad[0]!r} is not one of {', '.join(LEVELS)}")
    notify = _texts(spec, "notify", where, tuple(notifiers))
    if unknown := [target for target in notify if target not in notifiers]:
        raise ConfigError(f"{where}.notify: no notifier named {unknown[0]!r}")
    threshold = spec.get("threshold", 0 if kind != "error_rate" else None)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
        raise ConfigError(f"{where}.threshold: a whole number >= 0 is required")
    factor = spec.get("factor", FACTOR)
    if not isinstance(factor, (int, float)) or isinstance(factor, bool) or not 1 < factor <= _MAX_FACTOR:
        raise ConfigError(f"{where}.factor: a number above 1 and at most {_MAX_FACTOR} is required")
    min_volume = spec.get("min_volume", MIN_VOLUME)
    if not isinstance(min_volume, int) or isinstance(min_volume, bool) or not 1 <= min_volume <= _MAX_VOLUME:
        raise ConfigError(f"{where}.min_volume: a whole number from 1 to {_MAX_VOLUME:,} is required")
    return Rule(
        name=name, kind=kind, services=_texts(spec, "services", where, ("*",)), levels=levels,
        threshold=threshold, window=_duration(spec, "window", where, Rule.window),
        after=_duration(spec, "after", where, Rule.after), cooldown=_duration(spec, "cooldown", where, Rule.cooldown),
        notify=notify, factor=float(factor), min_volume=min_volume,
    )


_NOTIFIER_FIELDS = {
    "webhook": {"url", "headers", "timeout"},
    "slack": {"url", "timeout"},
    "email": {"host", "port", "security", "username", "password", "from", "to", "timeout", "ca_file"},
}


def _notifier(name: str, spec: Any, where: str) -> NotifierConfig:
    if not _NAME.match(str(name)):
        raise ConfigError(f"{where}: the name must be letters, digits, '.', '_' or '-'")
    kind = _text(_mapping(spec, where), "type", where)
    if kind not in NOTIFIER_TYPES:
        raise ConfigError(f"{where}.type: {kind!r} is not one of {', '.join(NOTIFIER_TYPES)}")
    options = {key: value for key, value in _mapping(spec, where, allowed=_NOTIFIER_FIELDS[kind] | {"type"}).items()
               if key != "type"}
    timeout = options.get("timeout", 10)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError(f"{where}.timeout: a number of seconds > 0 is required")
    options["timeout"] = float(timeout)
    if kind in ("webhook", "slack"):
        url = _text(options, "url", where)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.url: an http:// or https:// URL is required")
        headers = options.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ConfigError(f"{where}.headers: a mapping of header names to strings is required")
    else:
        _email_options(options, where)
    return NotifierConfig(name=str(name), type=kind, options=options)


def _email_options(options: dict[str, Any], where: str) -> None:
    _text(options, "host", where)
    _text(options, "from", where)
    options["to"] = _texts(options, "to", where, ())
    if not options["to"]:
        raise ConfigError(f"{where}.to: at least one recipient is required")
    security = options.setdefault("security", "starttls")
    if security not in SECURITY:
        raise ConfigError(f"{where}.security: {security!r} is not one of {', '.join(SECURITY)}")
    port = options.setdefault("port", {"starttls": 587, "tls": 465, "none": 25}[security])
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigError(f"{where}.port: a port number is required")
    if ("username" in options) != ("password" in options):
        raise ConfigError(f"{where}: username and password go together")
