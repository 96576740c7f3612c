"""A group's triage state as one JSON-safe cell, and how events and status commands change it.

The cell::

    {"status": "unresolved" | "resolved" | "ignored",
     "ignore": None | {} | {"count": N, "seen": k} | {"until": epoch},   # {} is forever; only when ignored
     "history": [{"at", "who", "from", "to", "why", "ignore"?, "request_id"?, "reason"?, "release"?}, ...],
                                                                         # HISTORY_LIMIT; release: a regression's
     "counts": {...},                                                    # buckets.py
     "_wm": {source partition: offset}, "_cmd": {command partition: offset}}

Every change returns a new cell (a cell read from a table is never changed in place). Each
event and each command carries its offset; one at or below the offset the cell has applied
for its partition changes nothing, so re-applying what a killed worker had applied is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

from logmonitor.pipeline.tables.cells import Cell, mark_applied, watermark
from logmonitor.triage.buckets import count_events
from logmonitor.triage.commands import StatusCommand

__all__ = [
    "COMMANDS_APPLIED", "HISTORY_LIMIT", "IGNORE_COUNT", "IGNORE_UNTIL", "REGRESSION", "REQUEST", "SYSTEM", "Applied",
    "Event",
    "apply_command", "apply_event", "apply_events", "new_state", "settled",
]

HISTORY_LIMIT = 50
"""The status changes a group keeps, newest last."""
SYSTEM = "logmonitor"
"""``who`` of the changes the events make."""
# Why a status changed (the history's ``why``):
REQUEST = "request"  # a PATCH
REGRESSION = "regression"  # a resolved group saw an event: reopened
IGNORE_COUNT = "ignore_count"  # an ignored group saw its N more events: reopened
IGNORE_UNTIL = "ignore_until"  # an ignore's time passed
COMMANDS_APPLIED = "_cmd"
"""The cell field holding ``{command partition: offset}``: the last command applied from each."""


class Event(NamedTuple):
    """One error of the group: its source partition and offset, its time (epoch seconds) and release, if any."""

    partition: int
    offset: int
    epoch: float
    release: str | None = None


class Applied(NamedTuple):
    """A cell after applying something, whether it changed (so needs writing), and the reopenings it caused.

    ``signals`` holds ``REGRESSION`` and ``IGNORE_COUNT``, one per reopening, in order.
    """

    state: Cell
    changed: bool = False
    signals: tuple[str, ...] = ()


def new_state() -> Cell:
    """The cell of a group nothing has happened to yet: unresolved."""
    return {"status": "unresolved", "ignore": None, "history": [], "counts": {}}


def _own(state: Cell | None) -> Cell:
    """A copy of ``state`` to change (the cell is JSON-safe: a JSON round trip copies it, faster than ``deepcopy``)."""
    return new_state() if not state else orjson.loads(orjson.dumps(state))


def _change(state: Cell, to: str, *, at: float, why: str, who: str = SYSTEM, ignore: dict[str, Any] | None = None,
            request_id: str | None = None, reason: str | None = None, release: str | None = None) -> None:
    """Set, in place, the status to ``to`` (ignored: with ``ignore``) and record it in the bounded history."""
    entry: dict[str, Any] = {"at": at, "who": who, "from": state["status"], "to": to, "why": why}
    if ignore is not None:
        entry["ignore"] = _condition(ignore)
    if request_id is not None:
        entry["request_id"] = request_id
    if reason is not None:
        entry["reason"] = reason
    if release is not None:
        entry["release"] = release
    state.update(status=to, ignore=ignore)
    state["history"] = [*state["history"][-(HISTORY_LIMIT - 1):], entry]


def _condition(ignore: dict[str, Any] | None) -> dict[str, Any] | None:
    """An ignore without its progress (``seen``): what a command asks for, and what the history shows."""
    return None if ignore is None else {key: value for key, value in ignore.items() if key != "seen"}


def _passed_until(state: Cell, now: float) -> float | None:
    """The time of an ignore that has passed at ``now``, or None."""
    until: float | None = (state.get("ignore") or {}).get("until")
    return until if state["status"] == "ignored" and until is not None and now >= until else None


def _end_passed_ignore(state: Cell, now: float) -> None:
    """End, in place, an ignore whose time has passed at ``now``."""
    if (until := _passed_until(state, now)) is not None:
        _change(state, "unresolved", at=until, why=IGNORE_UNTIL)


def settled(state: Cell | None, now: float) -> Cell:
    """The cell as it stands at ``now``: an ignore whose time has passed has ended (a copy if so)."""
    if not state:
        return new_state()
    if _passed_until(state, now) is None:
        return state
    own = _own(state)
    _end_passed_ignore(own, now)
    return own


def _unchanged(state: Cell | None) -> Applied:
    return Applied(new_state() if state is None else state)


def apply_events(state: Cell | None, events: Iterable[Event], now: float) -> Applied:
    """Apply a group's new events in offset order (those the stored cell applied are skipped) at wall clock ``now``.

    A resolved group that sees an event is reopened (``REGRESSION``, once per resolve; the history
    entry names the event's release, if it has one); an
    ignored-until-N group counts its events and is reopened by the Nth (``IGNORE_COUNT``); an
    ignore whose time has passed ends first (no signal). Ignored groups signal nothing. The
    events are counted all at once (``buckets.count_events``), however many a batch brings.
    """
    applied = {partition: watermark(state, partition) for partition in {event.partition for event in events}}
    new = [event for event in events if event.offset > applied[event.partition]]
    if not new:
        return _unchanged(state)
    own = _own(state)
    _end_passed_ignore(own, now)
    signals: list[str] = []
    for event in new:  # what each event does to the status, until the group is open (then nothing)
        if own["status"] == "resolved":
            _change(own, "unresolved", at=now, why=REGRESSION, release=event.release)
            signals.append(REGRESSION)
        elif own["status"] == "ignored" and "count" in own["ignore"]:
            own["ignore"]["seen"] += 1
            if own["ignore"]["seen"] >= own["ignore"]["count"]:
                _change(own, "unresolved", at=now, why=IGNORE_COUNT)
                signals.append(IGNORE_COUNT)
        else:
            break
    count_events(own["counts"], [event.epoch for event in new], now)
    for partition, offset in {event.partition: event.offset for event in new}.items():  # each partition's last
        mark_applied(own, partition, offset)
    return Applied(own, True, tuple(signals))


def apply_event(state: Cell | None, event: Event, now: float) -> Applied:
    """Apply one event: :func:`apply_events` of one."""
    return apply_events(state, (event,), now)


def apply_command(state: Cell | None, command: StatusCommand, partition: int, offset: int) -> Applied:
    """Apply the status command at ``offset`` of command-topic ``partition`` (skipped if already applied).

    Setting the status a group already has (and the same ignore) records nothing.
    """
    if offset <= (state or {}).get(COMMANDS_APPLIED, {}).get(str(partition), -1):
        return _unchanged(state)
    own = _own(state)
    own.setdefault(COMMANDS_APPLIED, {})[str(partition)] = offset
    _end_passed_ignore(own, command.at)
    ignore = None if command.ignore is None else command.ignore.as_json()
    if own["status"] != command.to or _condition(own["ignore"]) != ignore:
        stored = ignore if ignore is None or "count" not in ignore else {**ignore, "seen": 0}
        _change(own, command.to, at=command.at, why=REQUEST, who=command.who, ignore=stored,
                request_id=command.request_id, reason=command.reason)
    return Applied(own, True)

