"""Whether a worker is consuming: assignment settled and table recovery complete."""

from __future__ import annotations

from typing import Any

__all__ = ["readiness"]


def readiness(app: Any) -> tuple[bool, str]:
    """Return ``(ready, state)`` where state is ``starting``, ``rebalancing``, ``recovering`` or ``consuming``.

    The web server starts before table recovery (Faust), so "the web server answers"
    does not mean "the numbers are complete"; this does.
    """
    if not app.started or not app.consumer.started:
        return False, "starting"
    if app.rebalancing:
        return False, "rebalancing"
    if app.in_recovery or not app.tables.recovery.completed.is_set():
        return False, "recovering"
    return True, "consuming"
