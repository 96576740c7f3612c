"""Which source partitions this worker actively processes (standby copies are not its own)."""

from __future__ import annotations

import faust

from logmonitor.read.queries import Partitions

__all__ = ["owned_partitions"]


def owned_partitions(app: faust.App, source_topic: str) -> Partitions:
    """The partitions of ``source_topic`` (``application-logs``) that ``app`` actively processes."""
    return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == source_topic}
