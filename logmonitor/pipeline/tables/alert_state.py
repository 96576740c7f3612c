"""Alert state per source partition: each (rule, service)'s incident and the alert history.

Keys (all written while handling a tick of the partition they belong to):
``s\\x1f<rule>\\x1f<service>`` → the incident state of :mod:`logmonitor.alerts.incidents`;
``h\\x1f<partition>\\x1f<slot>`` → one published alert, a ring of
:data:`HISTORY_SIZE` per partition; ``n\\x1f<partition>`` → the next history sequence number.
"""

from __future__ import annotations

from typing import Any

import faust

from logmonitor.pipeline.tables.cell_table import cell_table

__all__ = [
    "HISTORY", "HISTORY_SIZE", "INCIDENT", "NEXT_SEQUENCE", "define", "history_key", "history_partition",
    "incident_key", "next_key", "split_incident_key",
]

HISTORY_SIZE = 500
_SEP = "\x1f"
# The kinds of key, one letter each: the changelog holds them, so they never change.
INCIDENT = "s"  # the incident state of one (rule, service)
HISTORY = "h"  # one slot of a partition's alert history
NEXT_SEQUENCE = "n"  # a partition's next history sequence number

def define(app: faust.App, partitions: int) -> Any:
    """The alert-state table of ``app``: incidents and the alert history per source partition."""
    return cell_table(app, partitions, "alert-state", "Incidents per rule and service and the alert history ring.")


def incident_key(rule: str, service: str) -> str:
    """The key of one rule's incident state for one service."""
    return f"{INCIDENT}{_SEP}{rule}{_SEP}{service}"


def history_key(partition: int, slot: int) -> str:
    """The key of one slot of a partition's alert history."""
    return f"{HISTORY}{_SEP}{partition}{_SEP}{slot}"


def next_key(partition: int) -> str:
    """The key of a partition's next history sequence number."""
    return f"{NEXT_SEQUENCE}{_SEP}{partition}"


def split_incident_key(key: str) -> tuple[str, str] | None:
    """``(rule, service)`` of an incident's key; None for a key of another kind."""
    if not key.startswith(f"{INCIDENT}{_SEP}"):
        return None
    _kind, rule, service = key.split(_SEP, 2)  # rule names have no separator; a service name may (it is anyone's)
    return rule, service


def history_partition(key: str) -> int | None:
    """The partition of a history slot's key; None for a key of another kind."""
    if not key.startswith(f"{HISTORY}{_SEP}"):
        return None
    return int(key.split(_SEP)[1])
