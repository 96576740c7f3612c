"""The title and text of an alert, in words a person paged at night can act on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from logmonitor.alerts.rules import Rule

__all__ = ["describe", "human_duration"]


def human_duration(span: timedelta | float) -> str:
    """``90`` → ``"1m 30s"``; ``timedelta(hours=2)`` → ``"2h"``."""
    seconds = int(span.total_seconds() if isinstance(span, timedelta) else span)
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return " ".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def _levels(rule: Rule) -> str:
    return "/".join(rule.levels)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def describe(rule: Rule, status: str, service: str, *, value: float, count: int, follow_up: bool,
             example: dict[str, Any] | None) -> tuple[str, str]:
    """``(title, text)`` of an alert; the text adds the example's message, if any."""
    window, cooldown = human_duration(rule.window), human_duration(rule.cooldown)
    more = "more " if follow_up else ""
    titles = {
        ("critical", "firing"): f"{_plural(count, f'{more}{_levels(rule)} record')} in {service}",
        ("critical", "resolved"): f"No {_levels(rule)} records in {service} for {cooldown}",
        ("new_group", "firing"): f"{_plural(count, f'{more}new error group')} in {service}",
        ("error_rate", "firing"): f"{int(value):,} {_levels(rule)} records in {window} in {service}"
                                  f" (threshold {rule.threshold:,})",
        ("error_rate", "resolved"): f"{service} back to {int(value):,} {_levels(rule)} records in {window}",
        ("silence", "firing"): f"{service} has sent no logs for {human_duration(value)}",
        ("silence", "resolved"): f"{service} is logging again",
    }
    title = titles[(rule.kind, status)]
    lines = [f"rule {rule.name} ({rule.kind}) {status}"]
    if example:
        if rule.kind == "new_group":
            lines.append(f"{example.get('exception_type') or 'error'}: {example.get('title', '')}")
        else:
            lines.append(f"{example.get('level', '')} {example.get('logger') or ''}: {example.get('message', '')}")
    return title, "\n".join(line.strip() for line in lines)[:2000]
