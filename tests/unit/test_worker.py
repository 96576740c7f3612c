"""The worker class the app runs: no spinner, a larger young generation for the garbage collector, a stop deadline."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from logmonitor.server.app import LogMonitorApp
from logmonitor.server.shutdown_deadline import EXIT_SHUTDOWN_OVERRUN
from logmonitor.server.worker import MIDDLE_GENERATION, YOUNG_GENERATION, StreamWorker


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_the_app_runs_the_stream_worker(app: LogMonitorApp) -> None:
    assert app.conf.Worker is StreamWorker


def test_the_worker_enlarges_the_young_generation_and_collects_the_middle_one_more_often(
        thresholds: tuple[int, int, int], app: LogMonitorApp) -> None:
    gc.set_threshold(700, 11, 12)
    worker = StreamWorker(app, loglevel="WARN")
    assert worker.spinner is None
    assert gc.get_threshold() == (YOUNG_GENERATION, MIDDLE_GENERATION, 12)


def test_a_stop_that_overruns_its_deadline_exits_the_process_with_its_own_status() -> None:
    program = ("import logging, time; logging.basicConfig();"
               "from logmonitor.server.shutdown_deadline import exit_after; exit_after(0.1); time.sleep(30)")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=20)
    assert done.returncode == EXIT_SHUTDOWN_OVERRUN
    assert "did not stop within 0.1 s of being asked to" in done.stderr


def test_a_process_that_ends_in_time_is_not_touched_by_its_deadline() -> None:
    program = "from logmonitor.server.shutdown_deadline import exit_after; exit_after(5)"
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0 and done.stderr == ""
