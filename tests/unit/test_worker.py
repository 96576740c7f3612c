"""The worker class the app runs: no spinner, a larger young generation for the garbage collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from logmonitor.server.app import LogMonitorApp
from logmonitor.server.worker import YOUNG_GENERATION, StreamWorker


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_the_app_runs_the_stream_worker(app: LogMonitorApp) -> None:
    assert app.conf.Worker is StreamWorker


def test_the_worker_enlarges_only_the_young_generation(thresholds: tuple[int, int, int], app: LogMonitorApp) -> None:
    gc.set_threshold(700, 11, 12)
    worker = StreamWorker(app, loglevel="WARN")
    assert worker.spinner is None
    assert gc.get_threshold() == (YOUNG_GENERATION, 11, 12)
