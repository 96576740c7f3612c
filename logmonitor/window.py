"""The size of the count windows: every count, series, rate and alert works in windows of this size."""

from __future__ import annotations

__all__ = ["WINDOW_SECONDS"]

WINDOW_SECONDS = 60.0
"""Log counts are kept per service in tumbling windows of this many seconds of event time."""
