"""Test-suite wide configuration: fixture plugins and logging hygiene."""

import logging
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.fixtures.kafka", "tests.fixtures.worker", "tests.fixtures.browser", "tests.fixtures.receivers"]


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    """Tests that attach handlers must not leak them into the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
