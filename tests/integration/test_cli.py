"""``logmonitor --version``, ``--help``, ``tail`` and ``groups`` as a user runs them, against a real worker."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import pytest

from logmonitor import __version__
from tests.fixtures.traffic import keyed, log_record, produce
from tests.fixtures.worker import WorkerProcess, running_worker

pytestmark = pytest.mark.integration

TOKEN = "terminal-token-0123456789"


@pytest.fixture(scope="module")
def worker(kafka_broker: Any, tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> Iterator[WorkerProcess]:
    """The module's worker, which requires a token (the commands send it from LOGMONITOR_AUTH_TOKEN)."""
    with running_worker(kafka_broker.bootstrap_servers, tmp_path_factory.mktemp("terminal"), "lm-terminal",
                        who=request.node.nodeid, LOGMONITOR_AUTH_TOKEN=TOKEN) as started:
        yield started


def command_env(url: str, token: str | None = TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LOGMONITOR_AUTH_TOKEN", "NO_COLOR")}
    return {**env, "LOGMONITOR_URL": url, **({"LOGMONITOR_AUTH_TOKEN": token} if token else {})}


def logmonitor(*args: str, url: str = "", token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logmonitor", *args], capture_output=True, text=True, timeout=60,
                          env=command_env(url, token), stdin=subprocess.DEVNULL)


def send(worker: WorkerProcess, *records: dict[str, Any]) -> None:
    asyncio.run(produce(worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"], keyed(records)))


def crash(service: str, n: int) -> dict[str, Any]:
    exception = {"type": "TimeoutError", "message": f"call {n} timed out",
                 "stacktrace": 'File "app.py", line 9, in pay'}
    return log_record(service, "ERROR", f"call {n} timed out", exception=exception)


def test_version_names_logmonitor_and_the_engine_beside_it() -> None:
    result = logmonitor("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"logmonitor {__version__} (Faust {metadata.version('faust-streaming')}, Python ")


def test_help_says_what_logmonitor_is_and_lists_its_commands_before_fausts() -> None:
    result = logmonitor("--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.splitlines()[2].lstrip().startswith("logmonitor: real-time log and error monitoring"), text
    assert "Welcome" not in text
    ours, engine = text.split("Faust's own commands")
    assert commands_in(ours.split("Commands:")[1]) == ["up", "worker", "ingest", "demo", "kafka", "retention", ]
    assert {"agents", "livecheck", "models", "send", "tables"} <= set(commands_in(engine))


def commands_in(section: str) -> list[str]:
    """The names a help section lists (its lines indented by two spaces; wrapped lines are indented further)."""
    return [match.group(1) for line in section.splitlines() if (match := re.match(r"  ([a-z][a-z-]*)\s", line))]
