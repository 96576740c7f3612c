"""Builders for the triage tests: commands, events, and a sequence of them applied in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logmonitor.pipeline.tables.cells import Cell
from logmonitor.triage.commands import Ignore, StatusCommand
from logmonitor.triage.status import Event, apply_command, apply_events

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z, a whole hour


def command(to: str, *, at: float = T0, ignore: Ignore | None = None, who: str = "ops") -> StatusCommand:
    """A request to set ``to``."""
    return StatusCommand(group="g1", service="pay", from_status="unresolved", to=to, ignore=ignore, who=who, at=at,
                         request_id="r1")


@dataclass(frozen=True)
class Command:
    """A command at ``offset`` of command partition ``partition``."""

    command: StatusCommand
    offset: int
    partition: int = 0


Step = Event | Command


def run(state: Cell | None, steps: list[Step], now: float = T0) -> tuple[Cell, list[str]]:
    """Apply ``steps`` in order (events at ``now``); the final cell and every signal."""
    signals: list[str] = []
    for step in steps:
        if isinstance(step, Event):
            applied = apply_events(state, [step], now)
        else:
            applied = apply_command(state, step.command, step.partition, step.offset)
        state, signals = applied.state, signals + list(applied.signals)
    assert state is not None
    return state, signals


def events(first: int, count: int, *, partition: int = 0, epoch: float = T0) -> list[Event]:
    """``count`` events at offsets ``first``... of ``partition``."""
    return [Event(partition, offset, epoch) for offset in range(first, first + count)]


def whys(state: dict[str, Any]) -> list[str]:
    """The reasons of the status history, oldest first."""
    return [entry["why"] for entry in state["history"]]
