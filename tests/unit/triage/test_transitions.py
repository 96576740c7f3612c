"""Every transition of a group's status, by requests and by events; history; replays change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logmonitor.pipeline.tables.cells import Cell
from logmonitor.triage.commands import Ignore
from logmonitor.triage.status import (
    HISTORY_LIMIT,
    IGNORE_COUNT,
    REGRESSION,
    Event,
    apply_command,
    apply_event,
    apply_events,
    new_state,
    settled,
)
from tests.unit.triage.steps import T0, Command, Step, command, events, run, whys

RESOLVE = Command(command("resolved"), 0)
IGNORE_FOREVER = Command(command("ignored", ignore=Ignore()), 0)
IGNORE_3 = Command(command("ignored", ignore=Ignore(count=3)), 0)
IGNORE_UNTIL = Command(command("ignored", ignore=Ignore(until=T0 + 60)), 0)
REOPEN = Command(command("unresolved"), 1)

TRANSITIONS: list[tuple[str, list[Step], float, str, list[str], list[str]]] = [
    # (name, steps, now, status, signals, history whys)
    ("an event leaves a new group unresolved", events(0, 1), T0, "unresolved", [], []),
    ("a request resolves", [RESOLVE], T0, "resolved", [], ["request"]),
    ("an event reopens a resolved group", [RESOLVE, *events(0, 1)], T0, "unresolved", [REGRESSION],
     ["request", "regression"]),
    ("events before the resolve do not reopen it", [*events(0, 5), RESOLVE], T0, "resolved", [], ["request"]),
    ("a resolved group regresses once, however many events", [RESOLVE, *events(0, 50)], T0, "unresolved",
     [REGRESSION], ["request", "regression"]),
    ("each resolve may regress once", [RESOLVE, *events(0, 2), Command(command("resolved"), 1), *events(2, 2)], T0,
     "unresolved", [REGRESSION, REGRESSION], ["request", "regression", "request", "regression"]),
    ("a request ignores a resolved group", [RESOLVE, Command(command("ignored", ignore=Ignore()), 1)], T0, "ignored",
     [], ["request", "request"]),
    ("ignored forever stays ignored and silent", [IGNORE_FOREVER, *events(0, 100)], T0, "ignored", [], ["request"]),
    ("ignored until 3 stays ignored for 2 events", [IGNORE_3, *events(0, 2)], T0, "ignored", [], ["request"]),
    ("ignored until 3 reopens at the 3rd", [IGNORE_3, *events(0, 3)], T0, "unresolved", [IGNORE_COUNT],
     ["request", "ignore_count"]),
    ("events before an ignore do not count toward it", [*events(0, 5), IGNORE_3, *events(5, 2)], T0, "ignored", [],
     ["request"]),
    ("ignored until a time stays ignored before it", [IGNORE_UNTIL, *events(0, 1)], T0 + 59, "ignored", [],
     ["request"]),
    ("ignored until a time ends at the time, silently", [IGNORE_UNTIL, *events(0, 1)], T0 + 60, "unresolved", [],
     ["request", "ignore_until"]),
    ("a request reopens an ignored group", [IGNORE_FOREVER, REOPEN], T0, "unresolved", [], ["request", "request"]),
    ("a request reopens a resolved group", [RESOLVE, REOPEN], T0, "unresolved", [], ["request", "request"]),
    ("the same status again records nothing", [RESOLVE, Command(command("resolved"), 1)], T0, "resolved", [],
     ["request"]),
    ("another ignore condition is a change", [IGNORE_3, Command(command("ignored", ignore=Ignore(count=5)), 1)], T0,
     "ignored", [], ["request", "request"]),
    ("a request resolves an ignored group", [IGNORE_3, Command(command("resolved"), 1), *events(0, 1)], T0,
     "unresolved", [REGRESSION], ["request", "request", "regression"]),
]


@pytest.mark.parametrize(("steps", "now", "status", "signals", "history"),
                         [case[1:] for case in TRANSITIONS], ids=[case[0] for case in TRANSITIONS])
def test_transition(steps: list[Step], now: float, status: str, signals: list[str], history: list[str]) -> None:
    state, fired = run(None, steps, now)
    assert (state["status"], fired, whys(state)) == (status, signals, history)


def test_ignored_until_10_reopens_and_signals_after_exactly_10_more_events() -> None:
    ignored, _ = run(None, [*events(0, 3), Command(command("ignored", ignore=Ignore(count=10)), 0)])
    nine, fired = run(ignored, events(3, 9))
    assert (nine["status"], fired, nine["ignore"]) == ("ignored", [], {"count": 10, "seen": 9})
    ten, fired = run(nine, events(12, 1))
    assert (ten["status"], fired, ten["ignore"]) == ("unresolved", [IGNORE_COUNT], None)
    after, fired = run(ten, events(13, 5))
    assert fired == [] and after["status"] == "unresolved"


def test_a_batch_of_events_does_what_the_same_events_one_by_one_do() -> None:
    """The router applies a batch's events of a group at once: the same status, signals and counts."""
    for before in ([RESOLVE], [IGNORE_3], [IGNORE_FOREVER], [IGNORE_UNTIL], []):
        stored, _ = run(None, [*events(0, 2), *before])
        at_once = apply_events(stored, events(2, 5), T0 + 120)
        one_by_one, signals = run(stored, events(2, 5), T0 + 120)
        assert (at_once.state, list(at_once.signals)) == (one_by_one, signals)


def test_the_errors_of_one_otlp_message_all_count() -> None:
    """An OTLP batch's records share their message's offset: each of its errors is an event; replayed, none is."""
    state = apply_events(None, [Event(0, 7, T0)] * 3, T0).state
    assert state["counts"]["m"] == [[T0, 3]]
    assert apply_events(state, [Event(0, 7, T0)] * 3, T0).state is state


def test_a_history_entry_says_who_when_from_what_to_what() -> None:
    state, _ = run(None, [Command(command("ignored", at=T0 + 5, who="alice", ignore=Ignore(count=4)), 3)])
    assert state["history"] == [{"at": T0 + 5, "who": "alice", "from": "unresolved", "to": "ignored", "why": "request",
                                 "ignore": {"count": 4}, "request_id": "r1"}]
    state, _ = run(state, events(0, 4), now=T0 + 9)
    assert state["history"][-1] == {"at": T0 + 9, "who": "logmonitor", "from": "ignored", "to": "unresolved",
                                    "why": "ignore_count"}
    assert state["history"][0]["ignore"] == {"count": 4}, "the entry keeps the condition, not its progress"


def test_an_ignore_until_a_time_ends_at_that_time_in_the_history_and_on_reading() -> None:
    ignored, _ = run(None, [IGNORE_UNTIL])
    assert settled(ignored, T0 + 59) is ignored
    ended = settled(ignored, T0 + 61)
    assert ended["status"] == "unresolved" and ended["history"][-1]["at"] == T0 + 60
    assert ignored["status"] == "ignored", "reading never changes the stored cell"


def test_the_history_keeps_the_last_changes_only() -> None:
    flips = [Command(command(("resolved", "unresolved")[n % 2], at=T0 + n), n) for n in range(HISTORY_LIMIT + 30)]
    state, _ = run(None, flips)
    assert len(state["history"]) == HISTORY_LIMIT
    assert state["history"][-1]["at"] == T0 + HISTORY_LIMIT + 29 and state["history"][0]["at"] == T0 + 30


def test_a_stored_cell_is_never_changed_in_place() -> None:
    stored, _ = run(None, [IGNORE_3, *events(0, 1)])
    copy = {**stored, "ignore": dict(stored["ignore"]), "counts": {k: [list(b) for b in v]
                                                                   for k, v in stored["counts"].items()}}
    apply_event(stored, Event(0, 1, T0), T0)
    apply_command(stored, command("resolved"), 0, 1)
    assert stored == copy


def test_an_event_or_command_already_applied_changes_nothing() -> None:
    state, _ = run(None, [RESOLVE, *events(0, 3)])
    again = apply_events(state, events(0, 3), T0)
    assert again.state is state and not again.changed and again.signals == ()
    assert apply_command(state, command("ignored", ignore=Ignore()), 0, 0).state is state
    elsewhere = apply_event(state, Event(1, 0, T0), T0)
    assert elsewhere.changed, "offsets are per source partition"
    other_topic_partition = apply_command(state, command("ignored", ignore=Ignore()), 1, 0)
    assert other_topic_partition.state["status"] == "ignored", "command offsets are per command partition"


def test_a_group_no_cell_was_kept_for_reads_as_unresolved() -> None:
    assert settled(None, T0) == new_state() == {"status": "unresolved", "ignore": None, "history": [], "counts": {}}


# Replays: any sequence of events (two source partitions) and commands, applied once, equals the
# same applied again from any earlier point, as a restarted worker re-reads what it had not committed.
_COMMANDS = st.one_of(
    st.tuples(st.sampled_from(["unresolved", "resolved"]), st.none()),
    st.tuples(st.just("ignored"), st.sampled_from(["forever", "count", "until"]), st.integers(1, 4)),
)
_STEPS = st.lists(st.one_of(
    st.tuples(st.just("event"), st.integers(0, 1), st.floats(T0 - 40 * 86400, T0 + 7200)),
    st.tuples(st.just("command"), _COMMANDS),
), max_size=40)


def _ignore(kind: str, n: int, at: float) -> Ignore:
    return {"forever": Ignore(), "count": Ignore(count=n), "until": Ignore(until=at + 10 * n)}[kind]


def _numbered(raw: list[tuple[Any, ...]]) -> list[tuple[Step, float]]:
    """Give each event and command the next offset of its partition, and a clock that only moves on."""
    offsets: dict[tuple[str, int], int] = {}
    steps: list[tuple[Step, float]] = []
    now = T0
    for kind, *what in raw:
        now += 7
        key = (kind, what[0] if kind == "event" else 0)
        offsets[key] = offsets.get(key, -1) + 1
        if kind == "event":
            steps.append((Event(what[0], offsets[key], what[1]), now))
        else:
            to, *ignore = what[0]
            condition = _ignore(ignore[0], ignore[1], now - 1) if to == "ignored" else None
            steps.append((Command(command(to, at=now - 1, ignore=condition), offsets[key]), now))
    return steps


def _apply(state: Cell | None, steps: list[tuple[Step, float]]) -> Cell | None:
    for step, now in steps:
        state, _ = run(state, [step], now)
    return state


@given(_STEPS, st.data())
def test_replaying_from_any_earlier_point_equals_applying_once(raw: list[tuple[Any, ...]], data: st.DataObject) -> None:
    steps = _numbered(raw)
    once = _apply(None, steps)
    assert _apply(once, steps) == once, "everything applied twice"
    crashed_at = data.draw(st.integers(0, len(steps)))
    replay_from = data.draw(st.integers(0, crashed_at))
    assert _apply(_apply(None, steps[:crashed_at]), steps[replay_from:]) == once
