"""The PATCH body and the command-topic value: what is accepted, and one clear error for each mistake."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from logmonitor.triage.commands import (
    MAX_BODY_BYTES,
    Ignore,
    StatusCommand,
    TriageError,
    command_from_message,
    parse_patch,
)
from logmonitor.triage.status import apply_command
from tests.unit.triage.steps import T0


def patch(body: Any, *, raw: bytes | None = None) -> StatusCommand:
    """The command for ``body`` (JSON-encoded unless ``raw``), sent by alice at T0 about a regressed group."""
    return parse_patch(orjson.dumps(body) if raw is None else raw, group="pay:abc", service="pay", current="regressed",
                       who="alice", now=T0, request_id="req-1")


@pytest.mark.parametrize(("body", "to", "ignore"), [
    ({"status": "resolved"}, "resolved", None),
    ({"status": "unresolved"}, "unresolved", None),
    ({"status": "unresolved", "ignore": None}, "unresolved", None),
    ({"status": "ignored"}, "ignored", Ignore()),
    ({"status": "ignored", "ignore": {}}, "ignored", Ignore()),
    ({"status": "ignored", "ignore": {"count": 10}}, "ignored", Ignore(count=10)),
    ({"status": "ignored", "ignore": {"count": 1_000_000}}, "ignored", Ignore(count=1_000_000)),
    ({"status": "ignored", "ignore": {"until": "2027-01-15T09:00:00Z"}}, "ignored", Ignore(until=T0 + 3600)),
    ({"status": "ignored", "ignore": {"until": "2027-01-15T10:00:00+01:00"}}, "ignored", Ignore(until=T0 + 3600)),
    ({"status": "ignored", "ignore": {"until": T0 + 60}}, "ignored", Ignore(until=T0 + 60)),
    ({"status": "ignored", "ignore": {"until": (T0 + 60) * 1000}}, "ignored", Ignore(until=T0 + 60)),
])
def test_a_good_body_makes_the_command(body: dict[str, Any], to: str, ignore: Ignore | None) -> None:
    made = patch(body)
    assert made == StatusCommand(group="pay:abc", service="pay", from_status="regressed", to=to, ignore=ignore,
                                 who="alice", at=T0, request_id="req-1")


@pytest.mark.parametrize(("raw", "code", "detail"), [
    (b"", "bad_body", "the body must be JSON"),
    (b"{", "bad_body", "the body must be JSON"),
    (b"\xff\xfe", "bad_body", "the body must be JSON"),
    (b"[" * 5000, "bad_body", "the body must be at most 4096 bytes"),
    (b"[" * 2000, "bad_body", "the body must be JSON"),
    (b'"resolved"', "bad_body", "the body must be an object"),
    (b"null", "bad_body", "the body must be an object"),
    (b'{"status": "resolved", "why": "x"}', "bad_body", "unknown field 'why' (known: status, ignore, reason)"),
    (b"{}", "bad_status", "status must be one of unresolved, resolved, ignored"),
    (b'{"status": "new"}', "bad_status", "(new, regressed and escalating follow from the events)"),
    (b'{"status": "RESOLVED"}', "bad_status", "status must be one of"),
    (b'{"status": ["resolved"]}', "bad_status", "status must be one of"),
    (b'{"status": "resolved", "ignore": {}}', "bad_ignore", "ignore goes with status ignored, and only with it"),
    (b'{"status": "ignored", "ignore": []}', "bad_ignore", 'ignore must be {"count": N}, {"until": time} or {}'),
    (b'{"status": "ignored", "ignore": {"minutes": 5}}', "bad_ignore", "ignore must be"),
    (b'{"status": "ignored", "ignore": {"count": 0}}', "bad_ignore", "ignore.count must be from 1 to 1,000,000"),
    (b'{"status": "ignored", "ignore": {"count": -3}}', "bad_ignore", "ignore.count must be from 1"),
    (b'{"status": "ignored", "ignore": {"count": 1000001}}', "bad_ignore", "ignore.count must be from 1"),
    (b'{"status": "ignored", "ignore": {"count": 1e3}}', "bad_ignore", "ignore.count must be a whole number"),
    (b'{"status": "ignored", "ignore": {"count": true}}', "bad_ignore", "ignore.count must be a whole number"),
    (b'{"status": "ignored", "ignore": {"count": "10"}}', "bad_ignore", "ignore.count must be a whole number"),
    (b'{"status": "ignored", "ignore": {"count": 1' + b"0" * 400 + b"}}", "bad_body", "the body must be JSON"),
    (b'{"status": "ignored", "ignore": {"count": 5, "until": 1900000000}}', "bad_ignore", "count or until, not both"),
    (b'{"status": "ignored", "ignore": {"until": "tomorrow"}}', "bad_ignore",
     "ignore.until must be ISO 8601 or epoch seconds, got 'tomorrow'"),
    (b'{"status": "ignored", "ignore": {"until": "' + b"9" * 100 + b'"}}', "bad_ignore", "longer than 64 characters"),
    (b'{"status": "ignored", "ignore": {"until": null}}', "bad_ignore", "ignore.until must be ISO 8601"),
    (b'{"status": "ignored", "ignore": {"until": 1e400}}', "bad_body", "the body must be JSON"),
    (b'{"status": "ignored", "ignore": {"until": -1}}', "bad_ignore", "must be between 1970-01-01 and 9999-12-31"),
    (b'{"status": "ignored", "ignore": {"until": "2027-01-15T08:00:00Z"}}', "bad_ignore",
     "ignore.until must be in the future, at most 366 days ahead"),
    (b'{"status": "ignored", "ignore": {"until": "2026-01-01T00:00:00Z"}}', "bad_ignore", "must be in the future"),
    (b'{"status": "ignored", "ignore": {"until": "2028-01-17T08:00:00Z"}}', "bad_ignore", "at most 366 days ahead"),
])
def test_a_bad_body_is_one_clear_error(raw: bytes, code: str, detail: str) -> None:
    with pytest.raises(TriageError) as caught:
        patch(None, raw=raw)
    assert caught.value.code == code and detail in caught.value.detail
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("field", "value"), [
    ("who", ""), ("who", "x" * 129), ("group", "g" * 1025), ("service", ""), ("request_id", "r" * 129),
    ("from_status", "closed"),
])
def test_the_command_refuses_fields_out_of_bounds(field: str, value: str) -> None:
    fields: dict[str, Any] = {"group": "g", "service": "s", "from_status": "unresolved", "who": "a",
                              "request_id": "r", field: value}
    with pytest.raises(TriageError, match="must be"):
        StatusCommand(to="resolved", ignore=None, at=T0, **fields)


@pytest.mark.parametrize("ignore", [None, Ignore(), Ignore(count=7), Ignore(until=T0 + 86400)])
def test_a_command_travels_as_json_and_reads_back_the_same(ignore: Ignore | None) -> None:
    sent = StatusCommand(group="pay:abc", service="pay", from_status="new", to="ignored" if ignore else "resolved",
                         ignore=ignore, who="anonymous", at=T0, request_id="req-9")
    message = orjson.loads(orjson.dumps(sent.as_message()))
    assert set(message) == {"group", "service", "from", "to", "ignore", "who", "at", "request_id"}
    assert command_from_message(message) == sent


@pytest.mark.parametrize("message", [
    None, [], "resolved", {},
    {"group": "g", "service": "s", "from": "new", "to": "resolved", "ignore": None, "who": "a", "request_id": "r"},
    {"group": "g", "service": "s", "from": "new", "to": "resolved", "ignore": None, "who": "a", "at": "now",
     "request_id": "r"},
    {"group": "g", "service": "s", "from": "new", "to": "resolved", "ignore": None, "who": "a", "at": 1e20,
     "request_id": "r"},
    {"group": 5, "service": "s", "from": "new", "to": "resolved", "ignore": None, "who": "a", "at": T0,
     "request_id": "r"},
    {"group": "g", "service": "s", "from": "new", "to": "resolved", "ignore": {}, "who": "a", "at": T0,
     "request_id": "r"},
    {"group": "g", "service": "s", "from": "new", "to": "ignored", "ignore": {"count": 0}, "who": "a", "at": T0,
     "request_id": "r"},
    {"group": "g", "service": "s", "from": "new", "to": "ignored", "ignore": None, "who": "a", "at": T0,
     "request_id": "r"},
])
def test_a_malformed_command_message_is_refused(message: Any) -> None:
    with pytest.raises(TriageError):
        command_from_message(message)


def test_the_body_limit_is_checked_before_parsing() -> None:
    body = b'{"status": "resolved"}' + b" " * (MAX_BODY_BYTES - 22)
    assert patch(None, raw=body).to == "resolved"
    with pytest.raises(TriageError, match="at most 4096 bytes"):
        patch(None, raw=body + b" ")


def test_a_reason_travels_with_the_command_into_the_history() -> None:
    made = patch({"status": "resolved", "reason": "  fixed in 2.4.1  "})
    assert made.reason == "fixed in 2.4.1", "trimmed"
    message = orjson.loads(orjson.dumps(made.as_message()))
    assert message["reason"] == "fixed in 2.4.1" and command_from_message(message) == made
    assert patch({"status": "resolved", "reason": "   "}).reason is None, "blank is no reason"
    assert "reason" not in patch({"status": "resolved"}).as_message(), "older readers see the message they know"
    (entry,) = apply_command(None, made, 0, 0).state["history"]
    assert entry["reason"] == "fixed in 2.4.1" and entry["who"] == "alice"


@pytest.mark.parametrize(("reason", "detail"), [
    (5, "reason must be text of 1 to 500 characters"), ("x" * 501, "reason must be text of 1 to 500 characters"),
])
def test_a_bad_reason_is_one_clear_error(reason: Any, detail: str) -> None:
    with pytest.raises(TriageError) as caught:
        patch({"status": "resolved", "reason": reason})
    assert caught.value.code == "bad_reason" and caught.value.detail == detail
