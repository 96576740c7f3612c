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

import aiohttp
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from logmonitor import __version__
from tests.fixtures import sse
from tests.fixtures.ports import free_port
from tests.fixtures.receivers import wait_until
from tests.fixtures.sse import events_until, next_event
from tests.fixtures.traffic import keyed, log_record, produce
from tests.fixtures.worker import WorkerProcess, running_worker

pytestmark = pytest.mark.integration

TOKEN = "terminal-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TAIL_PLACES = 6  # followers of every record at a time


@pytest.fixture(scope="module")
def worker(kafka_broker: Any, tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> Iterator[WorkerProcess]:
    """The module's worker, which requires a token (the commands send it from LOGMONITOR_AUTH_TOKEN)."""
    with running_worker(kafka_broker.bootstrap_servers, tmp_path_factory.mktemp("terminal"), "lm-terminal",
                        who=request.node.nodeid, LOGMONITOR_AUTH_TOKEN=TOKEN,
                        LOGMONITOR_TAIL_MAX_CLIENTS=str(TAIL_PLACES)) as started:
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
                                                      "groups", "move-state"]
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


def follow(worker: WorkerProcess, *args: str) -> subprocess.Popen[str]:
    """``logmonitor tail ARGS`` running, once it says it follows (its stream is live)."""
    tail = subprocess.Popen([sys.executable, "-m", "logmonitor", "tail", *args], env=command_env(worker.url),
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert tail.stderr is not None
    first = tail.stderr.readline()
    assert first.startswith(f"logmonitor tail: following new {'errors' if '--errors' in args else 'records'} "
                            f"at {worker.url}"), first
    return tail


def finished(tail: subprocess.Popen[str]) -> str:
    """What a tail with ``--count`` printed once it stopped by itself (killed after 60 s)."""
    try:
        out, err = tail.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        tail.kill()
        out, err = tail.communicate()
        raise AssertionError(f"tail did not get all its records: {out}\n{err}") from None
    assert tail.returncode == 0, err
    return out


def test_tail_follows_exactly_the_records_its_filters_match_redacted_in_order(worker: WorkerProcess) -> None:
    run = uuid.uuid4().hex[:8]
    pay, mail, auth = (f"{name}-{run}" for name in ("pay", "mail", "auth"))
    records = [log_record(service, level, f"{run} {service} {level} n={n}", extra={"seq": n})
               for n in range(30) for service in (pay, mail, auth)
               for level in [("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")[(n + len(service)) % 5]]]
    records.append(log_record(mail, "WARNING", f"{run} login password=hunter2 token: abc123"))  # not redacted at source
    last = log_record(pay, "CRITICAL", f"{run} the last one")  # matches every filter below, sent after the rest
    followers = {  # filter -> what it must show, in the order sent per service (each service has one partition)
        ("--grep", run): records,
        ("--service", pay, "--min-level", "warning"): [r for r in records if r["service"] == pay
                                                       and r["level"] in ("WARNING", "ERROR", "CRITICAL")],
        ("--level", "CRITICAL", "--grep", run.upper()): [r for r in records if r["level"] == "CRITICAL"],
        ("--errors", "--grep", run): [r for r in records if r["level"] in ("ERROR", "CRITICAL")],
    }
    tails = {args: follow(worker, *args, "--json", "--count", str(len(expected) + 1))
             for args, expected in followers.items()}
    plain = follow(worker, "--service", pay, "--min-level", "ERROR", "--count", "3")
    send(worker, *records)
    send(worker, last)
    outputs = {args: [orjson.loads(line) for line in finished(tail).splitlines()] for args, tail in tails.items()}
    for args, expected in followers.items():
        shown = outputs[args]
        assert sorted(r["id"] for r in shown) == sorted(r["id"] for r in [*expected, last]), args
        for service in (pay, mail, auth):
            sequence = [r["extra"]["seq"] for r in shown if r["service"] == service and "seq" in r["extra"]]
            assert sequence == sorted(sequence), (args, "in order per partition")
        if "--errors" in args:
            assert all(r.get("fingerprint") for r in shown), "the errors stream: with their group"
    (secret,) = [r for r in outputs["--grep", run] if "login" in r["message"]]
    assert secret["message"] == f"{run} login password=[Filtered] token: [Filtered]", "redacted before it is sent"
    lines = finished(plain).splitlines()
    assert len(lines) == 3 and all(f"  {pay.ljust(16)}  {run} " in line for line in lines), lines
    assert "\x1b" not in "".join(lines), "no colour when piped"


@pytest.mark.parametrize("path", ["/api/v1/logs/tail", "/api/v1/logs/stream"])
@pytest.mark.parametrize("query", [{"level": "LOUD"}, {"min_level": "5"}, {"q": "x" * 257}, {"service": "s" * 257}])
async def test_a_live_stream_with_a_bad_parameter_is_a_400_with_a_json_error(
        worker: WorkerProcess, path: str, query: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as session, session.get(worker.url + path, params=query, headers=AUTH) as answer:
        assert answer.status == 400 and answer.content_type == "application/json"
        assert (await answer.json())["error"] == "bad_parameter"


def feed_metrics(worker: WorkerProcess) -> tuple[float, float]:
    """The records feed's followers and whether its consumer runs, as the worker's /metrics says."""
    text = worker.get_text("/metrics")
    values = {family.name: sample.value for family in text_string_to_metric_families(text)
              for sample in family.samples if sample.labels.get("feed") == "records"}
    return values.get("logmonitor_live_feed_followers", 0.0), values.get("logmonitor_live_feed_reading", 0.0)


async def test_the_logs_topic_is_read_only_while_someone_follows_and_by_a_bounded_number(
        worker: WorkerProcess) -> None:
    url = worker.url + "/api/v1/logs/tail"
    await asyncio.to_thread(wait_until, lambda: feed_metrics(worker) == (0, 0), 30,
                            "an idle worker not to read the logs topic (earlier tests' followers have left)")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(sock_read=60)) as session:
        streams = [await session.get(url, headers=AUTH) for _ in range(TAIL_PLACES)]
        for stream in streams:
            assert stream.status == 200
            await events_until(stream, sse.status("live"), 60)
        assert await asyncio.to_thread(feed_metrics, worker) == (TAIL_PLACES, 1)
        async with session.get(url, headers=AUTH) as refused:
            assert refused.status == 503 and refused.headers["Retry-After"].isdigit()
            assert (await refused.json())["error"] == "too_many_streams"
        for stream in streams:
            stream.close()  # as a follower that goes away
    await asyncio.to_thread(wait_until, lambda: feed_metrics(worker) == (0, 0), 30,
                            "the records feed's consumer to stop after the last follower left")


async def test_a_worker_that_stops_ends_every_tail_at_once(start_worker: Any) -> None:
    worker = start_worker(LOGMONITOR_AUTH_TOKEN=TOKEN)
    await asyncio.to_thread(worker.wait_healthy)
    tail = await asyncio.to_thread(follow, worker)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(sock_read=60)) as session, \
            session.get(worker.url + "/api/v1/logs/tail", headers=AUTH) as stream:
        await events_until(stream, sse.status("live"), 60)
        worker.terminate()
        ending = []
        async with asyncio.timeout(30):
            while (event := await next_event(stream)) is not None:
                ending.append(event)
        assert ending == [("status", "reconnecting")], "told, then ended, so the client reconnects elsewhere"
    assert await asyncio.to_thread(worker.stopped_cleanly) is None, "an open stream does not hold the worker"
    _, err = await asyncio.to_thread(tail.communicate, timeout=60)
    *_, ended, gone = err.strip().splitlines()
    assert ended.startswith("logmonitor tail: the stream ended"), err
    assert gone.startswith(f"logmonitor tail: no logmonitor worker answers at {worker.url}") and tail.returncode == 1


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
