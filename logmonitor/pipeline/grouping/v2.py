"""Grouping version 2: an error with a stack groups by its in-app frames, any other by its message's template.

- A stack trace whose frames can be read (``frames.py``): service, exception type, and the
  module and function of each in-app frame (all frames when none is in-app), in order, a
  repeated frame once (a recursion's depth does not split its group). Line numbers and the
  message are left out: a fix elsewhere in the file, or another order id, is the same bug.
- Otherwise: service, exception type, and the message's template (``message.py``); the
  exception's message when the record has none.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from logmonitor.pipeline.grouping.frames import frames
from logmonitor.pipeline.grouping.message import template
from logmonitor.pipeline.grouping.v1 import digest

__all__ = ["fingerprint"]


def fingerprint(record: dict[str, Any]) -> str:
    """A stable hex hash of service, exception type, and the in-app frames or else the message's template."""
    exception = record.get("exception") or {}
    stacktrace = exception.get("stacktrace")
    found = frames(stacktrace) if stacktrace else []
    chosen = [frame for frame in found if not frame.library] or found
    where = [f"{module}:{function}" for (module, function), _same in groupby((f.module, f.function) for f in chosen)]
    # The version and what is hashed lead the hash input: no version-1 or message fingerprint can equal these.
    if where:
        parts = ("2", "frames", record["service"], exception.get("type") or "", "\n".join(where))
    else:
        message = record["message"] or exception.get("message") or ""
        parts = ("2", "message", record["service"], exception.get("type") or "", template(message))
    return digest(parts)
