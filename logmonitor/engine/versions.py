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


def installed_versions(lookup: Callable[[str], str] | None = None) -> dict[str, str | None]:
    """The installed version of each engine distribution of :data:`VERIFIED` (None: not installed).

    Args:
        lookup: a distribution's version by name (default: :func:`importlib.metadata.version`).
    """
    version = lookup or metadata.version
    found: dict[str, str | None] = {}
    for name in VERIFIED:
        try:
            found[name] = version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def untested_engine(installed: Mapping[str, str | None]) -> str | None:
    """How ``installed`` differs from :data:`VERIFIED` (``faust-streaming 0.16.0 (verified: 0.15.3)``), or None."""
    differences = [f"{name} {installed.get(name) or 'missing'} (verified: {version})"
                   for name, version in VERIFIED.items() if installed.get(name) != version]
    return ", ".join(differences) or None
