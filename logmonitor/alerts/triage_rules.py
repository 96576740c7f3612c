"""What the ``regression`` and ``escalating`` rules see in one service's groups' triage states (``triage/alerting.py``).

Like ``new_group``, only groups whose level the rule watches count, and each occurrence is one
group (a reopening, or the start of an escalation); the example is the group, with its id.
"""

from __future__ import annotations

from typing import Any

from logmonitor.alerts.incidents import Observation
from logmonitor.alerts.rules import Rule
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.cells import Cell
from logmonitor.pipeline.tables.group_states import group_id, state_key
from logmonitor.pipeline.tables.service_registry import public_name
from logmonitor.timestamps import epoch_of
from logmonitor.triage.alerting import GroupSnapshot, escalations, reopenings
from logmonitor.triage.escalation import Escalation

__all__ = ["observe_triage"]


def _example(group: Cell | None, snapshot: GroupSnapshot) -> dict[str, Any] | None:
    if group is None:
        return None
    public = {name: value for name, value in group.items() if not name.startswith("_")}
    return {**public, "service": public_name(group["service"]), "id": snapshot.group}


def observe_triage(tables: Tables, rule: Rule, groups: list[Cell], shown: str, state: dict[str, Any], *,
                   now: float, first_look: float) -> tuple[Observation, dict[str, Any]]:
    """What ``rule`` (``regression`` or ``escalating``) sees in one service's ``groups``, and its bookkeeping.

    ``first_look`` is when history stops being old news on the rule's first look at the service.
    """
    watched = {group_id(group["service"], group["fingerprint"]): group for group in groups
               if group["level"] in rule.levels}
    snapshots = [GroupSnapshot(key, tables.group_states.get(state_key(group["service"], group["fingerprint"])),
                               epoch_of(group["first_seen"])) for key, group in watched.items()]
    if rule.kind == "regression":
        found = reopenings(snapshots, state.get("checked", first_look), now)
        example = _example(watched[found.newest.group], found.newest) if found.newest else None
        if example is not None and found.release is not None:
            example["regressed_in"] = found.release
        return Observation(shown, new=found.count, value=found.count, example=example), {"checked": found.checked}
    started, escalating = escalations(snapshots, state.get("escalating", ()), now,
                                      Escalation(rule.factor, rule.min_volume))
    example = _example(watched[started[0].group], started[0]) if started else None
    return Observation(shown, new=len(started), value=len(started), example=example), {"escalating": escalating}
