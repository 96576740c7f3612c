"""Incidents, cooldown and grouping (the pure state machine), and how alerts are worded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from logmonitor.alerts.incidents import Observation, step
from logmonitor.alerts.notifiers import email_message, slack_payload
from logmonitor.alerts.rules import Rule


def run(rule: Rule, observations: list[tuple[float, Observation]]) -> list[dict[str, Any]]:
    """Feed observations at their times; return every alert."""
    state: dict[str, Any] | None = None
    alerts = []
    for now, seen in observations:
        state, fired = step(rule, state, seen, now)
        alerts.extend(fired)
    return alerts


CRITICAL = Rule(name="critical", kind="critical", levels=("CRITICAL",), cooldown=timedelta(seconds=60))


def test_a_storm_is_one_alert_then_one_grouped_follow_up_per_cooldown_then_resolved() -> None:
    storm = [(float(t), Observation("pay", new=100, value=100)) for t in range(0, 100)]  # 10,000 records in 100 s
    quiet = [(float(t), Observation("pay")) for t in range(100, 300, 5)]
    alerts = run(CRITICAL, storm + quiet)
    firing = [a for a in alerts if a["status"] == "firing"]
    assert [a["count"] for a in firing] == [100, 6000, 3900]
    assert sum(a["count"] for a in firing) == 10_000
    assert firing[0]["title"] == "100 CRITICAL records in pay"
    assert firing[1]["title"] == "6,000 more CRITICAL records in pay"
    assert [a["status"] for a in alerts] == ["firing", "firing", "firing", "resolved"]
    assert alerts[-1]["at"] == "1970-01-01T00:02:40.000Z", "resolved at the first tick after a quiet minute"
    assert len({a["started_at"] for a in alerts}) == 1, "one incident"


def test_a_new_group_alert_never_resolves() -> None:
    rule = Rule(name="new", kind="new_group", cooldown=timedelta(seconds=10))
    group = {"title": "KeyError: 'user'", "exception_type": "KeyError"}
    alerts = run(rule, [(0.0, Observation("api", new=1, example=group)), (60.0, Observation("api"))])
    assert [(a["status"], a["count"]) for a in alerts] == [("firing", 1)]
    assert "KeyError: KeyError: 'user'" in alerts[0]["text"]


RATE = Rule(name="rate", kind="error_rate", threshold=10, window=timedelta(minutes=5), cooldown=timedelta(seconds=60),
            levels=("ERROR", "CRITICAL"))


def test_a_condition_fires_once_while_it_holds_and_resolves_when_it_stops() -> None:
    seen = [(0.0, 5), (10.0, 11), (20.0, 50), (30.0, 12), (40.0, 3)]
    alerts = run(RATE, [(t, Observation("api", holds=v > 10, value=v)) for t, v in seen])
    assert [(a["status"], a["value"]) for a in alerts] == [("firing", 11), ("resolved", 3)]
    assert alerts[0]["title"] == "11 ERROR/CRITICAL records in 5m in api (threshold 10)"
    assert alerts[1]["title"] == "api back to 3 ERROR/CRITICAL records in 5m"


def test_flapping_inside_the_cooldown_is_grouped_into_the_next_alert() -> None:
    pattern = [(0, True), (5, False), (10, True), (15, False), (20, True), (25, False), (30, True), (70, True)]
    alerts = run(RATE, [(float(t), Observation("api", holds=h, value=20 if h else 0)) for t, h in pattern])
    assert [(a["status"], a["at"][17:19], a["grouped"]) for a in alerts] == [
        ("firing", "00", 0), ("resolved", "05", 0), ("firing", "10", 2)]


def test_silence_reads_as_a_duration() -> None:
    rule = Rule(name="quiet", kind="silence", after=timedelta(minutes=10))
    alerts = run(rule, [(0.0, Observation("batch", holds=True, value=3723)), (9.0, Observation("batch", value=0))])
    assert [a["title"] for a in alerts] == ["batch has sent no logs for 1h 2m 3s", "batch is logging again"]


def test_message_text_cannot_break_slack_markup_or_email_headers() -> None:
    example = {"level": "CRITICAL", "logger": "x", "message": "<!channel> <http://evil|click> & more"}
    rule = Rule(name="critical", kind="critical", levels=("CRITICAL",), notify=("chat",))
    alert = run(rule, [(0.0, Observation("pay\r\nBcc: victim@example.com", new=1, example=example))])[0]
    payload = slack_payload(alert)
    rendered = str(payload)
    assert "<!channel>" not in rendered and "&lt;!channel&gt; &lt;http://evil|click&gt; &amp; more" in rendered
    message = email_message(alert, "alerts@example.com", ("oncall@example.com",))
    assert "\n" not in message["Subject"] and message["Bcc"] is None
    assert "<!channel>" in message.get_content(), "email is plain text: the message is kept verbatim"
