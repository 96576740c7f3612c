"""What the API shows of a group (statuses, counts, history) and what the regression and escalating rules see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from logmonitor.alerts.incidents import Observation, step
from logmonitor.alerts.rules import Rule
from logmonitor.pipeline.tables.cells import Cell
from logmonitor.triage.alerting import GroupSnapshot, escalations, reopenings
from logmonitor.triage.commands import Ignore, TriageError
from logmonitor.triage.escalation import Escalation
from logmonitor.triage.status import Event, apply_events
from logmonitor.triage.view import group_detail, group_status, status_filter, statuses
from tests.unit.triage.steps import T0, Command, command, events, run

DAY = 86400
OLD = T0 - 30 * DAY  # first seen long ago: not new


def spiking(state: Cell | None, now: float, first: int = 0) -> Cell:
    """``state`` after 100 events in the minute before ``now``."""
    return apply_events(state, [Event(0, first + n, now - 60 + n / 2) for n in range(100)], now).state


@pytest.mark.parametrize(("steps", "first_seen", "now", "held"), [
    (events(0, 1), OLD, T0, ("unresolved",)),
    (events(0, 1), T0 - 6 * DAY, T0, ("unresolved", "new")),
    ([Command(command("resolved"), 0)], T0 - DAY, T0, ("resolved",)),
    ([Command(command("ignored", ignore=Ignore()), 0)], T0 - DAY, T0, ("ignored",)),
    ([Command(command("resolved"), 0), *events(0, 1)], OLD, T0, ("unresolved", "regressed")),
    ([Command(command("resolved"), 0), *events(0, 1)], OLD, T0 + 7 * DAY, ("unresolved",)),
    ([Command(command("resolved"), 0), *events(0, 1), Command(command("ignored", ignore=Ignore()), 1),
      Command(command("unresolved"), 2)], OLD, T0, ("unresolved",)),
    ([Command(command("ignored", ignore=Ignore(until=T0 + 10)), 0)], OLD, T0 + 10, ("unresolved",)),
])
def test_the_statuses_that_hold(steps: list[Any], first_seen: float, now: float, held: tuple[str, ...]) -> None:
    state, _ = run(None, steps)
    assert statuses(state, first_seen=first_seen, now=now) == held


def test_a_group_is_shown_with_its_most_telling_status_and_matches_every_status_that_holds() -> None:
    state, _ = run(None, [Command(command("resolved"), 0)])
    state = spiking(state, T0 + 120)
    view = group_status(state, first_seen=T0 - 26 * 3600, now=T0 + 120)
    assert view["statuses"] == ["unresolved", "regressed", "escalating", "new"] and view["status"] == "regressed"
    assert view["sparkline"] == [0] * 23 + [100] and view["ignore"] is None
    assert group_status(state, first_seen=T0 - 26 * 3600, now=T0 + 120, escalation=Escalation(min_volume=101))[
        "statuses"] == ["unresolved", "regressed", "new"], "the escalation parameters are the caller's"


def test_an_ignored_group_is_not_escalating_however_it_spikes() -> None:
    state, _ = run(None, [Command(command("ignored", ignore=Ignore()), 0)])
    assert statuses(spiking(state, T0), first_seen=OLD, now=T0) == ("ignored",)


def test_the_detail_has_24_hours_14_days_and_the_history_with_times_as_text() -> None:
    state, _ = run(None, [*events(0, 3, epoch=T0 - 2 * DAY),
                          Command(command("ignored", at=T0, ignore=Ignore(until=T0 + 3600)), 0)], now=T0)
    detail = group_detail(state, first_seen=OLD, now=T0 + 60)
    assert detail["status"] == "ignored" and detail["ignore"] == {"until": "2027-01-15T09:00:00.000Z"}
    assert len(detail["hourly"]) == 24 and detail["hourly"][-1] == {"start": "2027-01-15T08:00:00.000Z", "count": 0}
    assert [bucket["count"] for bucket in detail["daily"]] == [0] * 11 + [3, 0, 0]
    assert detail["daily"][-1]["start"] == "2027-01-15T00:00:00.000Z"
    assert detail["history"] == [{"at": "2027-01-15T08:00:00.000Z", "who": "ops", "from": "unresolved",
                                  "to": "ignored", "why": "request", "ignore": {"until": "2027-01-15T09:00:00.000Z"},
                                  "request_id": "r1"}]


def test_the_status_filter_takes_the_six_statuses() -> None:
    assert [status_filter(s) for s in ("", None, "new", "ignored")] == [None, None, "new", "ignored"]
    with pytest.raises(TriageError, match="status must be one of unresolved, resolved, ignored, new"):
        status_filter("open" * 100)


def test_each_reopening_is_seen_once_and_ignored_groups_raise_nothing() -> None:
    resolved, _ = run(None, [Command(command("resolved"), 0)])
    back = apply_events(resolved, events(0, 5), T0 + 10).state
    quiet = apply_events(resolved, [], T0 + 10).state
    groups = [GroupSnapshot("a", back, OLD), GroupSnapshot("b", quiet, OLD)]
    first = reopenings(groups, checked=T0, now=T0 + 15)
    assert (first.count, first.newest, first.checked) == (1, groups[0], T0 + 10)
    assert reopenings(groups, checked=first.checked, now=T0 + 20).count == 0, "seen once"
    again, _ = run(back, [Command(command("resolved", at=T0 + 30), 1)])
    again = apply_events(again, events(5, 1), T0 + 40).state
    assert reopenings([GroupSnapshot("a", again, OLD)], checked=first.checked, now=T0 + 45).count == 1
    ignored, _ = run(again, [Command(command("ignored", at=T0 + 41, ignore=Ignore()), 2)])
    assert reopenings([GroupSnapshot("a", ignored, OLD)], checked=first.checked, now=T0 + 45).count == 0


def test_a_group_ignored_until_10_more_is_seen_again_after_10() -> None:
    ignored, _ = run(None, [Command(command("ignored", ignore=Ignore(count=10)), 0)])
    nine = apply_events(ignored, events(0, 9), T0 + 5).state
    assert reopenings([GroupSnapshot("a", nine, OLD)], checked=T0, now=T0 + 6).count == 0
    ten = apply_events(nine, events(9, 1), T0 + 7).state
    assert reopenings([GroupSnapshot("a", ten, OLD)], checked=T0, now=T0 + 8).count == 1


def test_a_group_starting_to_escalate_is_news_once_per_episode() -> None:
    rule = Escalation()
    calm = GroupSnapshot("calm", apply_events(None, events(0, 3), T0).state, OLD)
    spike = GroupSnapshot("spike", spiking(None, T0), OLD)
    started, now_escalating = escalations([calm, spike], [], T0, rule)
    assert started == [spike] and now_escalating == ["spike"]
    assert escalations([calm, spike], now_escalating, T0 + 60, rule) == ([], ["spike"]), "the same episode"
    assert escalations([calm, spike], now_escalating, T0 + 2 * 3600, rule) == ([], []), "over"
    again = GroupSnapshot("spike", spiking(spike.state, T0 + 3 * 3600, first=100), OLD)
    assert escalations([calm, again], [], T0 + 3 * 3600, rule)[0] == [again], "a new episode"


def _alerts(kind: str, news: list[int]) -> list[dict[str, Any]]:
    rule = Rule(name=kind, kind=kind, cooldown=timedelta(seconds=60))
    state: dict[str, Any] | None = None
    alerts: list[dict[str, Any]] = []
    for tick, new in enumerate(news):
        example = {"title": "KeyError: 'user'", "exception_type": "KeyError"} if new else None
        state, fired = step(rule, state, Observation("pay", new=new, value=new, example=example), T0 + 10 * tick)
        alerts.extend(fired)
    return alerts


@pytest.mark.parametrize(("kind", "first", "more"), [
    ("regression", "1 error group back in pay", "6 more error groups back in pay"),
    ("escalating", "1 escalating error group in pay", "6 more escalating error groups in pay"),
])
def test_the_two_rules_group_a_storm_of_groups_like_new_group_and_never_resolve(kind: str, first: str,
                                                                               more: str) -> None:
    alerts = _alerts(kind, [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    assert [(a["status"], a["title"], a["count"]) for a in alerts] == [("firing", first, 1), ("firing", more, 6)]
    assert "KeyError: KeyError: 'user'" in alerts[0]["text"]
