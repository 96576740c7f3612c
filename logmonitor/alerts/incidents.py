"""Turn what a rule observes into alerts: incidents, cooldown and grouping, as a pure function.

Each (rule, service) has a small state. Two kinds of rules:

- *event* rules (``critical``, ``new_group``, ``regression``, ``escalating``) count occurrences. The first
  occurrence opens an incident and notifies at once; later ones are grouped and sent together, at most once
  per cooldown, each notification saying how many it covers. After a quiet cooldown the incident
  closes (``critical`` says so with a ``resolved`` alert).
- *condition* rules (``error_rate``, ``silence``) fire when their condition starts to hold and
  resolve when it stops. A subject notifies at most once per cooldown: an incident that opens
  and closes inside the cooldown is not sent but counted as ``grouped`` in the next one.

So a storm of 10,000 CRITICAL records gives one alert, one "9,997 more" per cooldown while it
lasts, and one ``resolved``; the ``count`` of its alerts adds up to the records seen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from logmonitor.alerts.rules import Rule
from logmonitor.alerts.wording import describe
from logmonitor.timestamps import iso_timestamp

__all__ = ["EVENT_KINDS", "Observation", "step"]

EVENT_KINDS = ("critical", "new_group", "regression", "escalating")


@dataclass(frozen=True)
class Observation:
    """What a rule sees for one service at one evaluation.

    ``new`` counts occurrences since the last evaluation (event rules); ``holds`` says whether
    the condition holds (condition rules); ``value`` is the figure behind it; ``example`` is a
    record or group that shows what happened.
    """

    service: str
    new: int = 0
    holds: bool = False
    value: float = 0
    example: dict[str, Any] | None = None


def step(
    rule: Rule, state: dict[str, Any] | None, seen: Observation, now: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The subject's next state and the alerts to publish, given what the rule sees at ``now``."""
    state = dict(state or {"status": "ok"})
    if rule.kind in EVENT_KINDS:
        return state, _event_step(rule, state, seen, now)
    return state, _condition_step(rule, state, seen, now)


def _cooled(state: dict[str, Any], now: float, rule: Rule) -> bool:
    """Whether the subject may notify again: never notified, or the cooldown has passed."""
    last = state.get("last_sent")
    return last is None or now - last >= rule.cooldown.total_seconds()


def _event_step(rule: Rule, state: dict[str, Any], seen: Observation, now: float) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = []
    if seen.new > 0:
        if state["status"] != "firing":
            state.update(status="firing", started=now, sent_in_incident=0)
        state["pending"] = state.get("pending", 0) + seen.new
        state["last_activity"] = now
        state["example"] = seen.example or state.get("example")
    if state["status"] != "firing":
        return alerts
    if state["pending"] and _cooled(state, now, rule):
        alerts.append(_alert(rule, state, seen, now, "firing", count=state["pending"]))
        state.update(pending=0, last_sent=now, sent_in_incident=state["sent_in_incident"] + 1)
    elif not state["pending"] and now - state["last_activity"] >= rule.cooldown.total_seconds():
        if rule.kind == "critical":  # a new group is news, not an incident: nothing to resolve
            alerts.append(_alert(rule, state, seen, now, "resolved", count=0))
        state.update(status="ok", example=None)
    return alerts


def _condition_step(rule: Rule, state: dict[str, Any], seen: Observation, now: float) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = []
    if seen.holds and state["status"] != "firing":
        state.update(status="firing", started=now, notified=False)
    if state["status"] == "firing" and seen.holds:
        if not state["notified"] and _cooled(state, now, rule):
            alerts.append(_alert(rule, state, seen, now, "firing", count=1, grouped=state.get("suppressed", 0)))
            state.update(notified=True, suppressed=0, last_sent=now)
    elif state["status"] == "firing":
        if state["notified"]:
            alerts.append(_alert(rule, state, seen, now, "resolved", count=0))
            state["last_sent"] = now
        else:
            state["suppressed"] = state.get("suppressed", 0) + 1
        state["status"] = "ok"
    return alerts


def _alert(rule: Rule, state: dict[str, Any], seen: Observation, now: float, status: str, *,
           count: int, grouped: int = 0) -> dict[str, Any]:
    example = state.get("example") if rule.kind in EVENT_KINDS else seen.example
    follow_up = rule.kind in EVENT_KINDS and state.get("sent_in_incident", 0) > 0
    title, text = describe(rule, status, seen.service, value=seen.value, count=count, follow_up=follow_up,
                           example=example)
    return {
        "id": uuid.uuid4().hex, "rule": rule.name, "kind": rule.kind, "status": status, "service": seen.service,
        "title": title, "text": text, "value": seen.value, "count": count, "grouped": grouped,
        "started_at": iso_timestamp(state["started"]), "at": iso_timestamp(now), "example": example,
        "notify": list(rule.notify),
    }
