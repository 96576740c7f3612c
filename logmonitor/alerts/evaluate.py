"""Evaluate every rule for the services of one source partition; keep the state and the history."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from logmonitor.alerts.incidents import step
from logmonitor.alerts.observe import PartitionView, observe
from logmonitor.alerts.rules import AlertConfig
from logmonitor.pipeline.tables.alert_state import HISTORY_SIZE, history_key, incident_key, next_key
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.cells import Cell
from logmonitor.pipeline.tables.service_registry import public_name

__all__ = ["evaluate"]


def evaluate(config: AlertConfig, tables: Tables, partition: int, view: PartitionView,
             now: float) -> list[dict[str, Any]]:
    """Step each rule for each watched service of ``partition``; return the alerts to publish.

    Writes the alert-state table, so it must run while handling an event of ``partition``.
    Only cells that change are written.
    """
    alerts: list[dict[str, Any]] = []
    for rule in config.rules:
        for service in sorted(view.profiles):
            if not rule.watches(public_name(service)):
                continue
            key = incident_key(rule.name, service)
            state = tables.alert_state.get(key)
            seen, bookkeeping = observe(tables, rule, view, service, state, now=now, partition=partition)
            following, fired = step(rule, state, seen, now)
            following.update(bookkeeping, partition=partition)
            if fired:
                following.update(title=fired[-1]["title"], last_at=fired[-1]["at"])
            if following != state:
                tables.alert_state[key] = following
            alerts.extend(fired)
    _remember(tables.alert_state, partition, alerts)
    return alerts


def _remember(alert_state: MutableMapping[str, Cell], partition: int, alerts: list[dict[str, Any]]) -> None:
    if not alerts:
        return
    sequence: int = (alert_state.get(next_key(partition)) or {}).get("next", 0)
    for alert in alerts:
        alert_state[history_key(partition, sequence % HISTORY_SIZE)] = {**alert, "seq": sequence}
        sequence += 1
    alert_state[next_key(partition)] = {"next": sequence}
