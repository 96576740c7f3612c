"""The title and text of an alert, in words a person paged at night can act on."""

from __future__ import annotations

from typing import Any

from logmonitor.alerts.rules import Rule
from logmonitor.settings import format_duration

__all__ = ["describe"]


def _levels(rule: Rule) -> str:
    return "/".join(rule.levels)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def describe(rule: Rule, status: str, service: str, *, value: float, count: int, follow_up: bool,
             example: dict[str, Any] | None) -> tuple[str, str]:
    """``(title, text)`` of an alert; the text adds the example's message, if any."""
    window, cooldown = format_duration(rule.window), format_duration(rule.cooldown)
    more = "more " if follow_up else ""
    titles = {
        ("critical", "firing"): f"{_plural(count, f'{more}{_levels(rule)} record')} in {service}",
        ("critical", "resolved"): f"No {_levels(rule)} records in {service} for {cooldown}",
        ("new_group", "firing"): f"{_plural(count, f'{more}new error group')} in {service}",
        ("regression", "firing"): f"{_plural(count, f'{more}error group')} back in {service}",
        ("escalating", "firing"): f"{_plural(count, f'{more}escalating error group')} in {service}",
        ("error_rate", "firing"): f"{int(value):,} {_levels(rule)} records in {window} in {service}"
                                  f" (threshold {rule.threshold:,})",
        ("error_rate", "resolved"): f"{service} back to {int(value):,} {_levels(rule)} records in {window}",
        ("silence", "firing"): f"{service} has sent no logs for {format_duration(value)}",
        ("silence", "resolved"): f"{service} is logging again",
    }
    title = titles[(rule.kind, status)]
    if rule.kind == "regression" and example and example.get("regressed_in"):
        release = example["regressed_in"]
        title += f" in release {release}" if count == 1 else f" (the latest in release {release})"
    lines = [f"rule {rule.name} ({rule.kind}) {status}"]
    if example:
        if rule.kind in ("new_group", "regression", "escalating"):  # the example is a group
            lines.append(f"{example.get('exception_type') or 'error'}: {example.get('title', '')}")
        else:
            lines.append(f"{example.get('level', '')} {example.get('logger') or ''}: {example.get('message', '')}")
    return title, "\n".join(line.strip() for line in lines)[:2000]
