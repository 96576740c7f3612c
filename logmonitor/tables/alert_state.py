"""Alert state per source partition: each (rule, service)'s incident and the alert history.

Keys (all written while handling a tick of the partition they belong to):
``s\\x1f<rule>\\x1f<service>`` → the incident state of :mod:`logmonitor.alerts.incidents`;
``h\\x1f<partition>\\x1f<slot>`` → one published alert, a ring of
:data:`HISTORY_SIZE` per partition; ``n\\x1f<partition>`` → the next history sequence number.
"""

from __future__ import annotations

from logmonitor.tables.define import cell_table

__all__ = ["HISTORY_SIZE", "alert_state", "history_key", "next_key", "split_key", "state_key"]

HISTORY_SIZE = 500
_SEP = "\x1f"

alert_state = cell_table("alert-state", "Incidents per rule and service and the alert history ring.")


def state_key(rule: str, service: str) -> str:
    """The key of one rule's incident state for one service."""
    return f"s{_SEP}{rule}{_SEP}{service}"


def history_key(partition: int, slot: int) -> str:
    """The key of one slot of a partition's alert history."""
    return f"h{_SEP}{partition}{_SEP}{slot}"


def next_key(partition: int) -> str:
    """The key of a partition's next history sequence number."""
    return f"n{_SEP}{partition}"


def split_key(key: str) -> list[str]:
    """A key's parts: kind first."""
    return key.split(_SEP)
