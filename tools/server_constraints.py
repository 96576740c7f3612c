"""Print constraints.txt: the exact versions, as installed, of everything ``logmonitor-kafka[server,rocksdb]`` needs.

``python -m tools.server_constraints > constraints.txt`` after changing a dependency (and, for an
engine upgrade, after the contract tests pass: docs/architecture.md, "The engine seam"). Test and
benchmark tools are not in it: their pins in setup.cfg are exact already.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

from packaging.requirements import Requirement

__all__ = ["main", "server_closure"]

EXTRAS = ("server", "rocksdb")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def server_closure(root: str = "logmonitor-kafka", extras: tuple[str, ...] = EXTRAS) -> dict[str, str]:
    """Every distribution ``root[extras]`` needs, directly or not, with its installed version."""
    found: dict[str, str] = {}
    wanted = [(root, set(extras))]
    while wanted:
        name, chosen = wanted.pop()
        distribution = metadata.distribution(name)
        for line in distribution.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is not None and not any(marker.evaluate({"extra": extra}) for extra in chosen or {""}):
                continue
            key = _canonical(requirement.name)
            if key not in found:
                found[key] = metadata.version(requirement.name)
                wanted.append((requirement.name, set(requirement.extras)))
            elif requirement.extras:
                wanted.append((requirement.name, set(requirement.extras)))
    return found


def main() -> None:
    """Write the constraints to standard output."""
    print("# The server install's exact versions (tools/server_constraints.py); used by the Makefile,")
    print("# CI (through it) and docker/Dockerfile: pip install -c constraints.txt '.[server,rocksdb]'")
    for name, version in sorted(server_closure().items()):
        print(f"{name}=={version}")


if __name__ == "__main__":
    main()
    sys.exit(0)
