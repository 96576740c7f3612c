"""Fixtures of the unit layer (no broker, no browser): an app from the factory, the tables as dicts."""

from __future__ import annotations

import pytest

from logmonitor.server.app import LogMonitorApp, create_app
from logmonitor.settings import Settings
from tests.unit.dict_tables import tables as tables


@pytest.fixture
def app() -> LogMonitorApp:
    """An app as the worker makes it, from the environment's settings; nothing of it runs."""
    return create_app(Settings.from_env())
