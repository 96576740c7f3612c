"""What the ``regression`` and ``escalating`` alert rules see in a service's groups (pure; the caller reads the tables).

Both are event rules (``alerts/incidents.py``): each occurrence is one group, grouped into
incidents with the rule's cooldown like ``new_group``. Ignored groups raise nothing.

- ``regression``: a group reopened by its events (a resolved group that saw an event, or an
  ignored-until-N group that saw its N), once per reopening. Found in the status history by the
  time of the reopening, so the rule's bookkeeping is one number: the newest reopening it has seen.
- ``escalating``: a group that starts escalating (``escalation.py``, with the rule's ``factor``
  and ``min_volume``), once per episode: the bookkeeping is the list of groups escalating at the
  last look; a group escalating now and not then is an occurrence.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from logmonitor.pipeline.tables.cells import Cell
from logmonitor.triage.escalation import Escalation
from logmonitor.triage.status import IGNORE_COUNT, REGRESSION, settled
from logmonitor.triage.view import statuses

__all__ = ["GroupSnapshot", "Reopenings", "escalations", "reopenings"]


@dataclass(frozen=True)
class GroupSnapshot:
    """One group of a service as the rules see it: its id, its triage cell, when it was first seen (epoch)."""

    group: str
    state: Cell | None
    first_seen: float


@dataclass(frozen=True)
class Reopenings:
    """The reopenings after the rule's last look: how many, the newest one's group, time and release."""

    count: int
    newest: GroupSnapshot | None
    checked: float
    release: str | None = None


def reopenings(groups: Iterable[GroupSnapshot], checked: float, now: float) -> Reopenings:
    """The reopenings recorded after ``checked`` in groups not ignored at ``now``.

    Args:
        groups: the service's groups.
        checked: the last look's ``Reopenings.checked``; on a rule's first look, the time
            before which reopenings are old news (e.g. now minus the rules' lookback).
        now: the wall clock.
    """
    count, newest, newest_at, release = 0, None, checked, None
    for snapshot in groups:
        current = settled(snapshot.state, now)
        if current["status"] == "ignored":
            continue
        for entry in current["history"]:
            if entry["why"] in (REGRESSION, IGNORE_COUNT) and entry["at"] > checked:
                count += 1
                if entry["at"] >= newest_at:
                    newest, newest_at, release = snapshot, entry["at"], entry.get("release")
    return Reopenings(count, newest, newest_at, release)


def escalations(groups: Iterable[GroupSnapshot], before: Collection[str], now: float,
                escalation: Escalation) -> tuple[list[GroupSnapshot], list[str]]:
    """The groups that started escalating since the last look, and the ids of all escalating now (to keep).

    ``before`` is the ids the last look returned (empty on a rule's first look: every group
    escalating then is news). Unresolved groups only: ignored and resolved ones raise nothing.
    """
    now_escalating = [snapshot for snapshot in groups
                      if "escalating" in statuses(snapshot.state, first_seen=snapshot.first_seen, now=now,
                                                  escalation=escalation)]
    known = set(before)
    started = [snapshot for snapshot in now_escalating if snapshot.group not in known]
    return started, sorted(snapshot.group for snapshot in now_escalating)
