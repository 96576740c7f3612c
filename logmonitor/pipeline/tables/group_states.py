"""Each error group's triage state (``triage/status.py``'s cell: status, ignore, history, counts), and the group id.

Key: the group's own key (``error_groups.group_key``: service and fingerprint), in a table of its
own because two writers change it: the router (the events of each ERROR/CRITICAL record's group,
``aggregation.Changes.write``) and the status-command agent (``pipeline/status_commands.py``).
Both write while handling an event of the group's source partition, so the cell lands in the
same changelog partition as its group.

The API names a group by :func:`group_id`: the group key (UTF-8) in unpadded base64url, so any
service name fits a URL path segment and the id maps back to the key without a lookup. The
changelogs and alert bookkeeping hold ids, so the format never changes (``tests/unit/test_table_keys.py``).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import faust

from logmonitor.pipeline.tables.cell_table import cell_table
from logmonitor.pipeline.tables.error_groups import group_key

__all__ = ["MAX_ID_LENGTH", "define", "group_id", "split_group_id", "state_key"]

_SEP = "\x1f"
MAX_ID_LENGTH = 512  # a service name of 256 characters (records.py) and a fingerprint need ~400
_ID = re.compile(r"[A-Za-z0-9_-]+")


def define(app: faust.App, partitions: int) -> Any:
    """The group-states table of ``app``: one triage cell per (service, fingerprint)."""
    return cell_table(app, partitions, "group-states",
                      "Per error group: status, ignore, status history, counts per 5 min/hour/day, applied offsets.")


def state_key(service: str, fingerprint: str) -> str:
    """The key of a group's triage state: the group's own key."""
    return group_key(service, fingerprint)


def group_id(service: str, fingerprint: str) -> str:
    """The URL-safe id of the group of ``service`` (as stored) and ``fingerprint``."""
    return base64.urlsafe_b64encode(group_key(service, fingerprint).encode()).decode().rstrip("=")


def split_group_id(raw: str) -> tuple[str, str] | None:
    """``(service, fingerprint)`` of a group id; None for anything :func:`group_id` does not make."""
    if not 0 < len(raw) <= MAX_ID_LENGTH or not _ID.fullmatch(raw):
        return None
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    service, sep, fingerprint = key.rpartition(_SEP)  # a fingerprint has no separator; a service name may
    if not sep or not service or not fingerprint or group_id(service, fingerprint) != raw:
        return None
    return service, fingerprint
