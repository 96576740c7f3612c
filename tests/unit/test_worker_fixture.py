"""The integration fixtures' stop: a worker that needs the SIGKILL fallback fails the test that started it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures import worker as worker_fixture
from tests.fixtures.worker import WorkerProcess, stop_all

DEAF = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
OVERRUN = "import os, signal, time; signal.signal(signal.SIGTERM, lambda *_: os._exit(70)); print('up', flush=True); " \
          "time.sleep(60)"
CLEAN = "import sys, signal, time; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); print('up', flush=True); " \
        "time.sleep(60)"


class StandIn(WorkerProcess):
    """A process in the place of a worker, running ``program``."""

    def __init__(self, program: str, log_file: Path) -> None:
        super().__init__({"LOG_MONITOR_SERVER_PORT": "1"}, log_file)
        self.program = program

    def start(self) -> StandIn:
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-c", self.program], stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while "up" not in self.log_text():  # its signal handler is in place
            assert time.monotonic() < deadline and self.process.poll() is None, self.log_text()
            time.sleep(0.01)
        return self


@pytest.fixture(autouse=True)
def _patient_for_a_tenth_of_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_fixture, "STOP_SECONDS", 0.1)


def test_a_worker_that_ignores_sigterm_is_killed_and_fails_the_test_naming_it(tmp_path: Path) -> None:
    deaf = StandIn(DEAF, tmp_path / "deaf.log").start()
    with pytest.raises(pytest.fail.Exception, match=r"(?s)tests/x.py::test_y: a worker did not stop cleanly.*killed"):
        stop_all([deaf], "tests/x.py::test_y")
    assert deaf.process is not None and deaf.process.poll() is not None, "it was killed"


def test_a_worker_that_overran_its_deadline_fails_the_test(tmp_path: Path) -> None:
    late = StandIn(OVERRUN, tmp_path / "late.log").start()
    with pytest.raises(pytest.fail.Exception, match="overran its shutdown deadline"):
        stop_all([late], "tests/x.py::test_y")


def test_workers_that_stop_cleanly_pass(tmp_path: Path) -> None:
    workers = [StandIn(CLEAN, tmp_path / f"clean-{n}.log").start() for n in range(2)]
    stop_all(workers, "tests/x.py::test_y")
    assert [w.process.returncode for w in workers if w.process] == [0, 0]
