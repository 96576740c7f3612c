"""The whole suite as ``make test`` runs it: one broker, the tests in two processes, then the kill and latency tests.

``python -m tools.run_suite [PYTEST ARGS ...]`` starts one local Kafka for the run (unless
``KAFKA_BOOTSTRAP_SERVERS`` names a cluster), then runs

1. every other test in two processes (pytest-xdist, a module per process: a module's shared
   worker and broker stay in one process);
2. the tests marked ``kills`` (a worker SIGKILLed while records flow, at a pace the test sets),
   two at a time, so that the CPU they need is not taken by the rest;
3. the tests marked ``latency`` alone: they measure how fast the worker answers.

It ends with the 25 slowest tests of all passes (setup, call and teardown together) and one
closing line, ``suite: N passed, N failed``. It fails when any pass fails or runs no test
(pytest's exit status 5). The budget of the whole ``make test`` is 12 minutes on 2 cores.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from logmonitor.dev.localkafka import LocalKafka
from tests.fixtures.ports import free_port

__all__ = ["PASSES", "PassResult", "main"]

PROCESSES = 2
IN_PROCESSES = ["-n", str(PROCESSES), "--dist", "loadfile"]
PASSES = {
    "parallel": [*IN_PROCESSES, "-m", "not kills and not latency"],
    "kills": [*IN_PROCESSES, "-m", "kills"],
    "latency": ["-m", "latency"],
}
SLOWEST = 25
NO_TESTS = 5  # pytest's exit status when it collected nothing


@dataclass
class PassResult:
    """One pytest pass: its exit status, wall time and its tests from the JUnit report."""

    name: str
    status: int
    wall: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    durations: list[tuple[float, str]] = field(default_factory=list)


@contextlib.contextmanager
def one_broker(directory: Path) -> Iterator[str]:
    """The bootstrap servers of ``KAFKA_BOOTSTRAP_SERVERS``, or of a local broker started for the run."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    # A run creates thousands of partitions (each test app its own topics): more heap than a dev broker's.
    broker = LocalKafka(data_dir=directory / "kafka", port=free_port(), controller_port=free_port(), heap="1g")
    broker.start(timeout=120)
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


def read_report(name: str, status: int, report: Path) -> PassResult:
    """The counts and per-test durations of a JUnit XML ``report``."""
    result = PassResult(name, status, counts={"passed": 0, "failed": 0, "skipped": 0})
    if not report.exists():
        return result
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        outcome = "passed"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        result.counts[outcome] += 1
        result.durations.append((float(case.get("time", 0)), f"{case.get('classname')}::{case.get('name')}"))
    return result


def run_pass(name: str, arguments: list[str], env: dict[str, str], directory: Path) -> PassResult:
    """Run one pytest pass; its result read from its JUnit report."""
    report = directory / f"{name}.xml"
    command = [sys.executable, "-m", "pytest", *PASSES[name], f"--junitxml={report}", *arguments]
    print(f"\n=== {name} pass: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    status = subprocess.run(command, env=env, check=False).returncode
    result = read_report(name, status, report)
    result.wall = time.monotonic() - started
    return result


def summary(results: list[PassResult]) -> tuple[str, bool]:
    """The closing line and whether the suite passed."""
    totals = {outcome: sum(r.counts.get(outcome, 0) for r in results) for outcome in ("passed", "failed", "skipped")}
    line = f"suite: {totals['passed']} passed, {totals['failed']} failed"
    if totals["skipped"]:
        line += f", {totals['skipped']} skipped"
    ok = all(r.status == 0 for r in results) and totals["passed"] > 0
    return line, ok


def main(arguments: list[str]) -> int:
    """Run the passes against one broker; 0 when every one passed."""
    with tempfile.TemporaryDirectory(prefix="logmonitor-suite-") as temporary:
        directory = Path(temporary)
        with one_broker(directory) as bootstrap:
            env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}
            results = [run_pass(name, arguments, env, directory) for name in PASSES]
    print(f"\n=== the {SLOWEST} slowest tests (setup, call and teardown)")
    for seconds, test in sorted((d for r in results for d in r.durations), reverse=True)[:SLOWEST]:
        print(f"{seconds:8.2f}s  {test}")
    for result in results:
        tested = sum(seconds for seconds, _test in result.durations)
        print(f"the {result.name} pass: {tested:.0f} s of tests in {result.wall:.0f} s")
        if result.status == NO_TESTS:
            print(f"the {result.name} pass ran no test: that is a failure")
        elif result.status:
            print(f"the {result.name} pass failed (pytest exit status {result.status})")
    line, ok = summary(results)
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
