"""Every table of one app, defined together by the app factory and handed to whoever reads or writes them."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import faust

from logmonitor.pipeline.tables import (
    alert_state,
    error_groups,
    group_states,
    invalid_counts,
    log_counts,
    service_state,
)
from logmonitor.pipeline.tables.cells import Cell
from logmonitor.settings import Settings

__all__ = ["Tables", "define_tables"]


@dataclass(frozen=True)
class Tables:
    """The app's tables; each module of ``tables/`` owns one's definition and key format."""

    log_counts: Any  # windowed: a cell per (service, window); read through ``.table.data``
    error_groups: MutableMapping[str, Cell]
    service_state: MutableMapping[str, Cell]
    invalid_counts: MutableMapping[str, Cell]
    alert_state: MutableMapping[str, Cell]
    group_states: MutableMapping[str, Cell]  # triage: status, history, counts per group


def define_tables(app: faust.App, settings: Settings) -> Tables:
    """Define every table of ``app``, co-partitioned with ``application-logs``."""
    partitions = settings.partitions
    return Tables(
        log_counts=log_counts.define(app, partitions, settings.window_retention),
        error_groups=error_groups.define(app, partitions),
        service_state=service_state.define(app, partitions),
        invalid_counts=invalid_counts.define(app, partitions),
        alert_state=alert_state.define(app, partitions),
        group_states=group_states.define(app, partitions),
    )
