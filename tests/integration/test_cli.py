"""``logmonitor --version``, ``--help``, ``tail`` and ``groups`` as a user runs them, against a real worker."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson
import pytest

from logmonitor import __version__
from tests.fixtures.ports import free_port
from tests.fixtures.receivers import wait_until
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
    assert commands_in(ours.split("Commands:")[1]) == ["up", "worker", "ingest", "demo", "kafka", "retention", "tail",
                                                      "groups"]
    assert {"agents", "livecheck", "models", "send", "tables"} <= set(commands_in(engine))


def commands_in(section: str) -> list[str]:
    """The names a help section lists (its lines indented by two spaces; wrapped lines are indented further)."""
    return [match.group(1) for line in section.splitlines() if (match := re.match(r"  ([a-z][a-z-]*)\s", line))]


def test_groups_lists_shows_resolves_ignores_and_reopens_a_group(worker: WorkerProcess) -> None:
    service = f"billing-{uuid.uuid4().hex[:6]}"
    send(worker, *(crash(service, n) for n in range(3)))
    listed = wait_until(lambda: (answer := orjson.loads(logmonitor("groups", "--service", service, "--json",
                                                                     url=worker.url).stdout))["groups"]
                        and answer["groups"][0]["count"] == 3 and answer, 60, "the group to count 3")
    (group,) = listed["groups"]
    table = logmonitor("groups", "--service", service, url=worker.url)
    header, row = table.stdout.splitlines()
    assert header.split() == ["STATUS", "EVENTS", "LAST", "SEEN", "SERVICE", "ID", "TITLE"]
    assert row.split()[:2] == ["new", "3"] and f"  {service}  {group['id']}  " in row
    assert header.index("ID") == row.index(group["id"]), "aligned columns"
    assert table.stderr.startswith("1 of 1 groups")

    shown = logmonitor("groups", "show", group["id"], url=worker.url)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == group["title"]
    assert f"  service    {service}" in shown.stdout and "  events     3, first " in shown.stdout

    changes = ((["resolve", "--reason", "fixed in 2.4.1"], "resolved"), (["ignore", "--count", "5"], "ignored"),
               (["reopen"], "unresolved"))
    for args, status in changes:
        changed = logmonitor("groups", *args, group["id"], url=worker.url)
        assert changed.returncode == 0, changed.stderr
        shown_as, _, rest = changed.stdout.partition(": ")  # the status shown: a reopened group is new again
        assert shown_as in (status, "new", f"{status} (pending)") and rest.startswith(group["id"]), changed.stdout
        wait_until(lambda status=status: status in orjson.loads(logmonitor("groups", "show", group["id"], "--json",
                                                                           url=worker.url).stdout)["statuses"],
                   30, f"the group to be {status}")
    history = orjson.loads(logmonitor("groups", "show", group["id"], "--json", url=worker.url).stdout)["history"]
    assert [(entry["to"], entry.get("reason")) for entry in history] == [
        ("resolved", "fixed in 2.4.1"), ("ignored", None), ("unresolved", None)]
    assert "-> resolved  request: fixed in 2.4.1" in logmonitor("groups", "show", group["id"], url=worker.url).stdout


def test_tail_follows_new_errors_with_its_filters_as_json_and_as_plain_lines(worker: WorkerProcess) -> None:
    service = f"checkout-{uuid.uuid4().hex[:6]}"
    env = command_env(worker.url)
    args = [sys.executable, "-m", "logmonitor", "tail", "--service", service]
    as_json = subprocess.Popen([*args, "--grep", "CARD", "--json", "--count", "2"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    plain = subprocess.Popen([*args, "--level", "critical", "--count", "1"], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for tail in (as_json, plain):
            assert tail.stderr is not None
            assert tail.stderr.readline().startswith(f"logmonitor tail: following new errors at {worker.url}")
        send(worker, log_record(service, "INFO", "card declined, retrying"),
             log_record(service, "ERROR", "card declined"), log_record(service, "ERROR", "timeout"),
             log_record(f"{service}-other", "ERROR", "card declined elsewhere"),
             log_record(service, "CRITICAL", "card \x1b[2Jvault down"))
        json_out, _ = as_json.communicate(timeout=60)
        plain_out, _ = plain.communicate(timeout=60)
    finally:
        for tail in (as_json, plain):
            tail.kill() if tail.poll() is None else None
    records = [orjson.loads(line) for line in json_out.splitlines()]
    assert [(r["level"], r["message"]) for r in records] == [("ERROR", "card declined"),
                                                             ("CRITICAL", "card \x1b[2Jvault down")]
    (line,) = plain_out.splitlines()
    assert line.endswith(f"  CRITICAL  {service.ljust(16)}  card \\x1b[2Jvault down"), "no colour, no escape when piped"
    assert as_json.returncode == 0 and plain.returncode == 0


def test_errors_are_one_line_that_says_what_to_do(worker: WorkerProcess, tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    cases = {
        "no worker": (logmonitor("groups", url=nobody), "no logmonitor worker answers at"),
        "no token": (logmonitor("tail", url=worker.url, token=None), "needs a token: set LOGMONITOR_AUTH_TOKEN"),
        "wrong token": (logmonitor("groups", url=worker.url, token="not-the-token"), "refused the token"),
        "unknown id": (logmonitor("groups", "show", "bm9wZR9ub3RoaW5n", url=worker.url), "`logmonitor groups` lists"),
        "unknown id, resolve": (logmonitor("groups", "resolve", "bm9wZR9ub3RoaW5n", url=worker.url), "no error group"),
    }
    for case, (result, expected) in cases.items():
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1 and expected in lines[0], (case, result.stderr)
        assert lines[0].startswith("logmonitor "), case
