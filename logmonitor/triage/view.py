"""A group's triage as the API shows it: its statuses (stored and derived), counts and history.

Derived states hold only for an unresolved group: ``regressed`` (its last change was a reopening
by an event after a resolve, less than :data:`RECENT_SECONDS` ago), ``escalating``
(``escalation.py``) and ``new`` (first seen less than :data:`RECENT_SECONDS` ago). A group is
shown with the first of these that holds, else its stored status; ``?status=`` filters match
any status that holds (so the ``unresolved`` tab lists new, regressed and escalating groups too).
"""

from __future__ import annotations

from typing import Any

from logmonitor.pipeline.tables.cells import Cell
from logmonitor.timestamps import iso_timestamp
from logmonitor.triage.buckets import DAYS, HOURS, Tier, series
from logmonitor.triage.commands import SHOWN, TriageError
from logmonitor.triage.escalation import ESCALATION, Escalation, is_escalating
from logmonitor.triage.status import REGRESSION, settled

__all__ = [
    "DAILY_BUCKETS",
    "HOURLY_BUCKETS",
    "RECENT_SECONDS",
    "group_detail",
    "group_status",
    "regressed_in",
    "status_filter",
    "statuses",
]

RECENT_SECONDS = 7 * 86400
"""How long a group stays ``new`` after it was first seen, and ``regressed`` after it was reopened."""
HOURLY_BUCKETS = 24
DAILY_BUCKETS = 14


def statuses(state: Cell | None, *, first_seen: float, now: float,
             escalation: Escalation = ESCALATION) -> tuple[str, ...]:
    """Every status that holds at ``now``: the stored one first, then ``regressed``, ``escalating``, ``new``."""
    current = settled(state, now)
    held = [current["status"]]
    if held[0] != "unresolved":
        return tuple(held)
    last = current["history"][-1] if current["history"] else {}
    if last.get("why") == REGRESSION and now - last["at"] < RECENT_SECONDS:
        held.append("regressed")
    if is_escalating(current["counts"], first_seen, now, escalation):
        held.append("escalating")
    if now - first_seen < RECENT_SECONDS:
        held.append("new")
    return tuple(held)


def regressed_in(state: Cell | None) -> str | None:
    """The release a group came back in at its latest regression (None: never regressed, or no release named)."""
    history = (state or {}).get("history") or ()
    latest = next((entry for entry in reversed(history) if entry.get("why") == REGRESSION), None)
    return None if latest is None else latest.get("release")


def status_filter(raw: str | None) -> str | None:
    """The ``status`` query parameter: None (all) or one of the shown statuses.

    Raises:
        TriageError: (code ``bad_parameter``) not a status.
    """
    if not raw:
        return None
    if raw not in SHOWN:
        raise TriageError("bad_parameter", f"status must be one of {', '.join(SHOWN)}, got {raw[:40]!r}")
    return raw


def _ignore_shown(ignore: dict[str, Any] | None) -> dict[str, Any] | None:
    if ignore is None or "until" not in ignore:
        return ignore
    return {**ignore, "until": iso_timestamp(ignore["until"])}


def group_status(state: Cell | None, *, first_seen: float, now: float,
                 escalation: Escalation = ESCALATION) -> dict[str, Any]:
    """``{"status", "statuses", "ignore", "sparkline", "regressed_in"}`` of a group.

    The sparkline: 24 hourly counts, oldest first; ``regressed_in``: :func:`regressed_in`.
    """
    held = statuses(state, first_seen=first_seen, now=now, escalation=escalation)
    current = settled(state, now)
    return {
        "status": held[1] if len(held) > 1 else held[0], "statuses": list(held),
        "ignore": _ignore_shown(current["ignore"]),
        "sparkline": [n for _start, n in series(current["counts"], HOURS, now, HOURLY_BUCKETS)],
        "regressed_in": regressed_in(current),
    }


def _buckets(counts: dict[str, Any], tier: Tier, now: float, length: int) -> list[dict[str, Any]]:
    return [{"start": iso_timestamp(start), "count": n} for start, n in series(counts, tier, now, length)]


def group_detail(state: Cell | None, *, first_seen: float, now: float,
                 escalation: Escalation = ESCALATION) -> dict[str, Any]:
    """:func:`group_status` with the hourly (24 h) and daily (14 d) buckets and the status history, oldest first."""
    current = settled(state, now)
    return {
        **group_status(state, first_seen=first_seen, now=now, escalation=escalation),
        "hourly": _buckets(current["counts"], HOURS, now, HOURLY_BUCKETS),
        "daily": _buckets(current["counts"], DAYS, now, DAILY_BUCKETS),
        "history": [{**entry, "at": iso_timestamp(entry["at"]), **(
            {"ignore": _ignore_shown(entry["ignore"])} if "ignore" in entry else {})} for entry in current["history"]],
    }
