"""The ``service`` label of ``logmonitor_records_routed``: as bounded as the services themselves.

A label set lives as long as the process, so a worker that routed for partitions it no longer
owns, or for services since expired, would keep their series: one process holds at most
``LOGMONITOR_MAX_SERVICES`` service labels plus ``_overflow``, and expiry removes a service's.
"""

from __future__ import annotations

from logmonitor.levels import LEVELS
from logmonitor.metrics import RECORDS_ROUTED
from logmonitor.pipeline.tables.service_registry import OVERFLOW, public_name

__all__ = ["ServiceLabels"]


class ServiceLabels:
    """The label values one process gives services: their names up to ``limit`` of them, then ``_overflow``."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._held: set[str] = set()

    def label(self, service: str) -> str:
        """The label of ``service`` (a name the tables count under)."""
        name = public_name(service)
        if name in self._held or name == OVERFLOW:
            return name
        if len(self._held) >= self._limit:
            return OVERFLOW
        self._held.add(name)
        return name

    def forget(self, service: str) -> None:
        """Remove the series of ``service`` (it expired); its name may be labelled again later."""
        name = public_name(service)
        if name in self._held:
            self._held.discard(name)
            for level in LEVELS:
                RECORDS_ROUTED.remove(name, level)

