"""Releases and environments: what a group and a service keep of them (pure, on JSON-safe cells).

A group's cell (``tables/error_groups.py``) gains, from the records that carry a release or an
environment (DESIGN section 2, both optional)::

    "first_release": the release of its first event that had one, "last_release": of its latest,
    "releases": [[release, events], ...]   # at most GROUP_RELEASES, the one seen last at the end
    "environments": [name, ...]            # at most GROUP_ENVIRONMENTS, in the order first seen

A service's release cell (``tables/service_state.py``, kind ``v``) keeps per release::

    {"releases": {release: {"first_seen", "last_seen", "records", "errors"}}}   # SERVICE_RELEASES

the latest :data:`SERVICE_RELEASES` by last seen (a producer that makes up a release per record
evicts its own oldest ones, not the state). Cells written before releases existed have none of
these fields and read as a group or a service without releases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logmonitor.pipeline.tables.cells import Cell

__all__ = [
    "GROUP_ENVIRONMENTS", "GROUP_RELEASES", "SERVICE_RELEASES", "ReleaseTally", "add_release_counts",
    "group_environments", "group_releases", "note_group_release", "shown_releases",
]

GROUP_RELEASES = 20
"""The releases a group keeps with their counts: the latest seen."""
GROUP_ENVIRONMENTS = 20
"""The environments a group keeps: the first seen."""
SERVICE_RELEASES = 200
"""The releases a service keeps (the releases view pages through them): the latest seen."""


def note_group_release(cell: Cell, release: str | None, environment: str | None) -> None:
    """Count, in place, one event of the group of ``cell`` in ``release`` and ``environment`` (either may be None).

    The cell and its lists must be the caller's own (``aggregation``'s copies are, one level deep);
    the lists' entries, shared with the stored cell, are replaced, never changed.
    """
    if release is not None:
        if cell.get("first_release") is None:
            cell["first_release"] = release
        cell["last_release"] = release
        releases: list[list[Any]] = cell.setdefault("releases", [])
        count = 0
        for index, entry in enumerate(releases):
            if entry[0] == release:
                count = entry[1]
                del releases[index]
                break
        releases.append([release, count + 1])
        del releases[:-GROUP_RELEASES]
    if environment is not None:
        environments: list[str] = cell.setdefault("environments", [])
        if environment not in environments and len(environments) < GROUP_ENVIRONMENTS:
            environments.append(environment)


def group_releases(cell: Cell) -> frozenset[str]:
    """The releases a group's cell holds (none for a cell written before releases)."""
    return frozenset(entry[0] for entry in cell.get("releases") or ())


def group_environments(cell: Cell) -> frozenset[str]:
    """The environments a group's cell holds."""
    return frozenset(cell.get("environments") or ())


def shown_releases(cell: Cell) -> list[dict[str, Any]]:
    """A group's releases as the API shows them: ``[{"release", "count"}]``, the one seen last first."""
    return [{"release": release, "count": count} for release, count in reversed(cell.get("releases") or ())]


def add_release_counts(cell: Cell, release: str, first_seen: str, last_seen: str, records: int, errors: int) -> None:
    """Add, in place, ``records`` records (``errors`` of them errors) of ``release`` to a service's release cell.

    Beyond :data:`SERVICE_RELEASES`, the release last seen longest ago is dropped. The cell and its
    mapping must be the caller's own (``aggregation``'s copies are, one level deep); a release's
    entry, shared with the stored cell, is replaced, never changed.
    """
    releases: dict[str, dict[str, Any]] = cell.setdefault("releases", {})
    held = releases.get(release)
    if held is None:
        held = {"first_seen": first_seen, "last_seen": last_seen, "records": 0, "errors": 0}
        if len(releases) >= SERVICE_RELEASES:
            del releases[min(releases, key=lambda name: (releases[name]["last_seen"], name))]
    releases[release] = {"first_seen": min(held["first_seen"], first_seen),
                         "last_seen": max(held["last_seen"], last_seen),
                         "records": held["records"] + records, "errors": held["errors"] + errors}


class ReleaseTally:
    """One batch's records per service and release, counted in plain lists and added to the cells once.

    A record costs two comparisons and two additions, not a cell entry's copy (the per-record copy
    doubled what a record with a release cost the router, measured in process).
    """

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], list[Any]] = {}  # [first seen, last seen, records, errors]

    def count(self, service: str, release: str, timestamp: str, error: bool) -> None:
        """Count one record of ``service`` in ``release`` at ``timestamp`` (ISO)."""
        held = self._counts.get((service, release))
        if held is None:
            self._counts[service, release] = [timestamp, timestamp, 1, 1 if error else 0]
            return
        if timestamp < held[0]:
            held[0] = timestamp
        elif timestamp > held[1]:
            held[1] = timestamp
        held[2] += 1
        if error:
            held[3] += 1

    def add_to(self, cell_of: Callable[[str], Cell]) -> None:
        """Add the counts to each service's release cell (``cell_of(service)``, the caller's own), then forget them."""
        for (service, release), (first_seen, last_seen, records, errors) in self._counts.items():
            add_release_counts(cell_of(service), release, first_seen, last_seen, records, errors)
        self._counts.clear()
