"""A status change as it travels through Kafka, and the PATCH body it is made from.

``PATCH /api/v1/logs/groups/{id}`` takes ``{"status": "unresolved" | "resolved" | "ignored",
"ignore": {"count": N} | {"until": time} | {}, "reason": text}`` (``ignore`` only with ``ignored``;
absent or ``{}`` is forever; ``reason``, optional, is kept in the group's history).
:func:`parse_patch` turns it into a :class:`StatusCommand`; its :meth:`~StatusCommand.as_message`
is the command topic's value, and :func:`command_from_message` reads one back (the topic is input
too: it is checked again). Every mistake is a :class:`TriageError` whose ``code`` and ``detail`` the
view answers with a 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from logmonitor.timestamps import EARLIEST, LATEST, TimeParamError, parse_time_param

__all__ = [
    "MAX_BODY_BYTES", "MAX_IGNORE_COUNT", "MAX_IGNORE_SECONDS", "MAX_REASON", "SETTABLE", "SHOWN", "Ignore",
    "StatusCommand", "TriageError", "command_from_message", "parse_patch",
]

SETTABLE = ("unresolved", "resolved", "ignored")
"""The statuses a request may set; the others are derived from the events."""
SHOWN = (*SETTABLE, "new", "regressed", "escalating")
"""Every status a group may be shown with."""
MAX_BODY_BYTES = 4096
MAX_IGNORE_COUNT = 1_000_000
MAX_IGNORE_SECONDS = 366 * 86400
MAX_REASON = 500
_MAX_TEXT = {"group": 1024, "service": 1024, "who": 128, "request_id": 128}
_BODY_FIELDS = ("status", "ignore", "reason")


class TriageError(ValueError):
    """A status change that cannot be made: ``code`` and ``detail`` for the ``{"error", "detail"}`` answer."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Ignore:
    """How long an ignore lasts: ``count`` more events, until the epoch ``until``, or (neither) forever."""

    count: int | None = None
    until: float | None = None

    def as_json(self) -> dict[str, Any]:
        """``{"count": N}``, ``{"until": epoch}`` or ``{}``."""
        if self.count is not None:
            return {"count": self.count}
        return {} if self.until is None else {"until": self.until}


@dataclass(frozen=True)
class StatusCommand:
    """One requested status change of one group; checked when made, whichever way.

    ``from_status`` is the status the requester saw (the history records the one it actually
    changed from); ``who`` is the token's label or ``"anonymous"``; ``at`` the request's epoch;
    ``reason`` the requester's words, if any, kept in the history.
    """

    group: str
    service: str
    from_status: str
    to: str
    ignore: Ignore | None
    who: str
    at: float
    request_id: str
    reason: str | None = None

    def __post_init__(self) -> None:
        for name, limit in _MAX_TEXT.items():
            value = getattr(self, name)
            if not isinstance(value, str) or not 0 < len(value) <= limit:
                raise TriageError("bad_command", f"{name} must be text of 1 to {limit} characters")
        if self.from_status not in SHOWN:
            raise TriageError("bad_command", f"from must be one of {', '.join(SHOWN)}")
        _check_status(self.to)
        _check_ignore(self.to, self.ignore, self.at)
        if self.reason is not None and (not isinstance(self.reason, str) or not 0 < len(self.reason) <= MAX_REASON):
            raise TriageError("bad_reason", f"reason must be text of 1 to {MAX_REASON} characters")

    def as_message(self) -> dict[str, Any]:
        """The command topic's value."""
        return {
            "group": self.group, "service": self.service, "from": self.from_status, "to": self.to,
            "ignore": None if self.ignore is None else self.ignore.as_json(), "who": self.who, "at": self.at,
            "request_id": self.request_id, **({} if self.reason is None else {"reason": self.reason}),
        }


def _check_status(status: object) -> str:
    if status not in SETTABLE:
        raise TriageError("bad_status", f"status must be one of {', '.join(SETTABLE)} (new, regressed and "
                                        "escalating follow from the events)")
    return str(status)


def _check_ignore(status: str, ignore: Ignore | None, at: float) -> None:
    if (ignore is not None) != (status == "ignored"):
        raise TriageError("bad_ignore", "ignore goes with status ignored, and only with it")
    if ignore is None:
        return
    if ignore.count is not None and ignore.until is not None:
        raise TriageError("bad_ignore", "ignore takes count or until, not both")
    if ignore.count is not None and not 1 <= ignore.count <= MAX_IGNORE_COUNT:
        raise TriageError("bad_ignore", f"ignore.count must be from 1 to {MAX_IGNORE_COUNT:,}")
    if ignore.until is not None and not at < ignore.until <= at + MAX_IGNORE_SECONDS:
        raise TriageError("bad_ignore", "ignore.until must be in the future, at most 366 days ahead")


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ignore_of(raw: object) -> Ignore:
    """An ``ignore`` object of a body or message: ``{"count": N}``, ``{"until": time}`` or ``{}``."""
    if not isinstance(raw, dict) or not set(raw) <= {"count", "until"}:
        raise TriageError("bad_ignore", 'ignore must be {"count": N}, {"until": time} or {}')
    count = None
    if "count" in raw and (count := _whole(raw["count"])) is None:
        raise TriageError("bad_ignore", "ignore.count must be a whole number")
    try:
        until = parse_time_param(raw["until"], "ignore.until") if "until" in raw else None
    except TimeParamError as error:
        raise TriageError("bad_ignore", str(error)) from None
    return Ignore(count=count, until=until)


def parse_patch(body: bytes, *, group: str, service: str, current: str, who: str, now: float,
                request_id: str) -> StatusCommand:
    """The command a PATCH body asks for.

    Args:
        body: the request body, JSON, at most :data:`MAX_BODY_BYTES`.
        group: the group's id; service: its service.
        current: the status the group is shown with now (one of :data:`SHOWN`).
        who: the token's label, or ``"anonymous"``.
        now: the request's epoch (``ignore.until`` must be after it).
        request_id: the request's id, kept in the history.

    Raises:
        TriageError: the body is too big, not a JSON object, has unknown fields, or a bad status or ignore.
    """
    if len(body) > MAX_BODY_BYTES:
        raise TriageError("bad_body", f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        fields = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise TriageError("bad_body", "the body must be JSON") from None
    if not isinstance(fields, dict):
        raise TriageError("bad_body", 'the body must be an object: {"status": ..., "ignore": {...}}')
    if unknown := sorted(set(fields) - set(_BODY_FIELDS)):
        raise TriageError("bad_body", f"unknown field {unknown[0][:40]!r} (known: {', '.join(_BODY_FIELDS)})")
    to = _check_status(fields.get("status"))
    raw_ignore = fields.get("ignore")
    if to != "ignored" and raw_ignore is not None:
        raise TriageError("bad_ignore", "ignore goes with status ignored, and only with it")
    ignore = _ignore_of({} if raw_ignore is None else raw_ignore) if to == "ignored" else None
    reason = fields.get("reason")
    if isinstance(reason, str):
        reason = reason.strip() or None
    return StatusCommand(group=group, service=service, from_status=current, to=to, ignore=ignore, who=who,
                         at=now, request_id=request_id, reason=reason)


def command_from_message(value: object) -> StatusCommand:
    """The command a command-topic value holds.

    Raises:
        TriageError: not a command as :meth:`StatusCommand.as_message` writes them.
    """
    if not isinstance(value, dict):
        raise TriageError("bad_command", "a command must be an object")
    at = value.get("at")
    if not isinstance(at, (int, float)) or isinstance(at, bool) or not EARLIEST <= at <= LATEST:
        raise TriageError("bad_command", "at must be epoch seconds")
    raw_ignore = value.get("ignore")
    return StatusCommand(  # its checks refuse fields of other types
        group=value.get("group", ""), service=value.get("service", ""), from_status=value.get("from", ""),
        to=value.get("to", ""), ignore=None if raw_ignore is None else _ignore_of(raw_ignore), who=value.get("who", ""),
        at=float(at), request_id=value.get("request_id", ""), reason=value.get("reason"),
    )
