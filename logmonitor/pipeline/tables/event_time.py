"""The event time of the record being processed, for windowed tables (raw values have no fields)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

__all__ = ["current_record_epoch", "record_time"]

current_record_epoch: ContextVar[float] = ContextVar("current_record_epoch")


def record_time(event: Any = None) -> float:
    """Faust relative-time handler: the parsed timestamp of the record being processed."""
    return current_record_epoch.get()
