"""The engine versions the seam was verified with, and the start-up check against the installed ones.

The hooks in this package reach into private code that any release may change without notice;
a commit that hangs or skips records silently is the price of a version nobody checked. The
worker therefore refuses to start on another version unless LOGMONITOR_ALLOW_UNTESTED_ENGINE is
true (then it warns). This module imports nothing of the engine: the check runs before it loads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import metadata

__all__ = ["VERIFIED", "installed_versions", "untested_engine"]

# Upgrading one: run tests/unit/engine (the contract tests), fix what fails, then change it here,
# in setup.cfg's pins and in constraints.txt (docs/architecture.md, "The engine seam").
VERIFIED: Mapping[str, str] = {
    "faust-streaming": "0.15.3",
    "mode-streaming": "0.7.1",
    "aiokafka": "0.14.0",
}


def installed_versions(lookup: Callable[[str], str] = metadata.version) -> dict[str, str | None]:
    """The installed version of each engine distribution of :data:`VERIFIED` (None: not installed)."""
    found: dict[str, str | None] = {}
    for name in VERIFIED:
        try:
            found[name] = lookup(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def untested_engine(installed: Mapping[str, str | None]) -> str | None:
    """What differs from the verified engine versions, as one sentence; None when nothing does."""
    differences = [f"{name} {installed.get(name) or 'missing'} (verified: {version})"
                   for name, version in VERIFIED.items() if installed.get(name) != version]
    if not differences:
        return None
    return (f"the installed engine is not the one logmonitor was verified with: {', '.join(differences)}. "
            "Install the verified versions (pip install -c constraints.txt 'logmonitor[server]'), or set "
            "LOGMONITOR_ALLOW_UNTESTED_ENGINE=true to try this one (docs/architecture.md, \"The engine seam\")")
