"""Read alerts from table state: the history of published alerts and the incidents open now."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from logmonitor.pipeline.tables.alert_state import history_partition, split_incident_key
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.service_registry import public_name
from logmonitor.read.queries import Partitions
from logmonitor.timestamps import iso_timestamp

__all__ = ["AlertQuery", "active_alerts", "alert_history", "incident_order"]


@dataclass(frozen=True)
class AlertQuery:
    """Filters of ``/api/v1/alerts``; all optional."""

    status: str | None = None
    rule: str | None = None
    service: str | None = None
    limit: int = 100

    def matches(self, alert: dict[str, Any]) -> bool:
        """Whether ``alert`` passes every filter that is set."""
        return all(wanted is None or alert.get(name) == wanted
                   for name, wanted in (("status", self.status), ("rule", self.rule), ("service", self.service)))


def _ours(partition: int, partitions: Partitions) -> bool:
    return partitions is None or partition in partitions


def alert_history(tables: Tables, query: AlertQuery, partitions: Partitions = None) -> list[dict[str, Any]]:
    """Published alerts matching ``query``, newest first, at most ``query.limit``."""
    found = (
        alert for key, alert in tables.alert_state.items()
        if (partition := history_partition(key)) is not None and alert and _ours(partition, partitions)
        and query.matches(alert)
    )
    return heapq.nlargest(query.limit, found, key=lambda alert: (alert["at"], alert.get("seq", 0), alert["id"]))


def incident_order(entry: dict[str, Any]) -> tuple[str, str, str]:
    """Sort key of open incidents: oldest first, then rule and service (the same on every worker)."""
    return entry["since"], entry["rule"], entry["service"]


def _open(state: dict[str, Any] | None) -> bool:
    """A firing incident that has been notified (so its title is this incident's)."""
    if not state or state.get("status") != "firing":
        return False
    return bool(state.get("notified") or state.get("sent_in_incident"))


def active_alerts(tables: Tables, query: AlertQuery, partitions: Partitions = None) -> list[dict[str, Any]]:
    """Incidents open now (rule, service, since, last title), oldest first."""
    active = []
    for key, state in tables.alert_state.items():
        incident = split_incident_key(key)
        if incident is None or not _open(state):
            continue
        rule, service = incident
        entry = {"rule": rule, "service": public_name(service), "status": "firing",
                 "since": iso_timestamp(state["started"]), "title": state["title"], "last_at": state["last_at"]}
        if _ours(state.get("partition", -1), partitions) and query.matches(entry):
            active.append(entry)
    return sorted(active, key=incident_order)
