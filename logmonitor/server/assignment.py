"""Which source partitions this worker actively processes (standby copies are not its own)."""

from __future__ import annotations

from logmonitor.read.queries import Partitions
from logmonitor.server.app import app, settings

__all__ = ["owned_partitions"]


def owned_partitions() -> Partitions:
    """The ``application-logs`` partitions this worker actively processes."""
    return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == settings.logs_topic}
