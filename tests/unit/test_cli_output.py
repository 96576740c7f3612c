"""What the CLI prints: one version in one place, and the terminal commands' lines (escaped, aligned, coloured)."""

from __future__ import annotations

import configparser
import io
import re
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import click
import orjson
import pytest
from click.testing import CliRunner

from logmonitor import __version__
from logmonitor.commands.about import version_line
from logmonitor.commands.groups import groups
from logmonitor.commands.tail import line_of, tail
from logmonitor.commands.terminal import aligned, printable
from logmonitor.commands.worker_api import ServerEvent, WorkerApi

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_set_once_and_the_changelog_starts_from_it() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    assert config["metadata"]["version"] == "attr: logmonitor.__version__"
    releases = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert releases[0] == __version__ and releases[-1] == "0.1.0"


def test_the_version_line_names_logmonitor_then_faust() -> None:
    assert version_line().startswith(f"logmonitor {__version__} (Faust {metadata.version('faust-streaming')}, ")


def test_log_text_cannot_drive_the_terminal_or_forge_lines() -> None:
    assert printable("a\x1b[2Jb\nc\rd\x9be\tf") == "a\\x1b[2Jb\\nc\\x0dd\\x9be f"


def test_columns_are_as_wide_as_their_widest_cell() -> None:
    assert aligned(["ID", "STATUS", "TITLE"], [["a", "resolved", "x"], ["abcd", "new", "y z"]]) == [
        "ID    STATUS    TITLE", "a     resolved  x", "abcd  new       y z"]


def test_a_record_line_is_coloured_by_level_only_on_a_terminal() -> None:
    line = line_of({"timestamp": "2026-12-06T20:00:00.000Z", "level": "CRITICAL", "service": "pay",
                    "message": "vault down", "exception": {"type": "OSError"}})
    assert "\x1b[" in line, "styled for a terminal"
    piped = io.StringIO()
    click.echo(line, file=piped)  # not a terminal: click drops the styles
    assert piped.getvalue() == f"2026-12-06T20:00:00.000Z  CRITICAL  {'pay':16}  vault down  [OSError]\n"


class _Stream(io.BytesIO):
    """A stream answer that is lost after its bytes, as a worker that went silent past the read timeout."""

    def __iter__(self) -> Iterator[bytes]:
        yield from io.BytesIO(self.getvalue())
        raise TimeoutError("timed out")


def test_server_sent_events_are_read_until_the_connection_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    body = (b"retry: 3000\n: connected\n\nevent: status\ndata: live\n\n: ping\n\n"
            b'event: error\ndata: {"level": "ERROR"}\n\nevent: error\ndata: {"unfinished"')
    api = WorkerApi("http://127.0.0.1:1/", None)
    monkeypatch.setattr(api, "_open", lambda request, timeout: _Stream(body))
    assert list(api.events("/api/v1/logs/stream")) == [ServerEvent("status", "live"),
                                                       ServerEvent("error", '{"level": "ERROR"}')]


def test_a_pending_change_is_said_to_be_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []

    def pending(api: WorkerApi, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        sent.append(body)
        return 202, {"command": {**body, "group": "Zw"}, "applied": False, "pending": True, "detail": "..."}

    monkeypatch.setattr(WorkerApi, "patch", pending)
    result = CliRunner().invoke(groups, ["resolve", "Zw", "--reason", "fixed"])
    assert result.exit_code == 0 and result.output.startswith("resolved (pending): Zw: the worker that owns the group")
    assert sent == [{"status": "resolved", "reason": "fixed"}]


def test_no_color_turns_the_colours_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in line_of({"level": "ERROR", "message": "m"})


def test_tail_asks_the_worker_to_filter_and_says_what_a_slow_terminal_missed(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    def events(api: WorkerApi, path: str, **query: Any) -> Iterator[ServerEvent]:
        asked.append((path, query))
        yield ServerEvent("status", "live")
        yield ServerEvent("record", '{"level": "WARNING", "service": "pay", "message": "slow"}')
        yield ServerEvent("skipped", '{"skipped": 120}')
        yield ServerEvent("record", '{"level": "ERROR", "service": "pay", "message": "down"}')

    monkeypatch.setattr(WorkerApi, "events", events)
    result = CliRunner().invoke(
        tail, ["--service", "pay", "--min-level", "warning", "--grep", "Slow", "--count", "2", "--json"])
    assert result.exit_code == 0, result.stderr
    assert asked == [("/api/v1/logs/tail", {"service": "pay", "level": None, "min_level": "WARNING", "q": "Slow"})]
    assert [line["message"] for line in map(orjson.loads, result.stdout.splitlines())] == ["slow", "down"]
    assert "logmonitor tail: 120 records skipped: this terminal or the worker did not keep up" in result.stderr


def test_tail_errors_follows_the_errors_stream_and_refuses_a_lower_level(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def events(api: WorkerApi, path: str, **query: Any) -> Iterator[ServerEvent]:
        asked.append(path)
        yield ServerEvent("error", '{"level": "ERROR", "message": "m"}')

    monkeypatch.setattr(WorkerApi, "events", events)
    assert CliRunner().invoke(tail, ["--errors", "--count", "1"]).exit_code == 0 and asked == ["/api/v1/logs/stream"]
    refused = CliRunner().invoke(tail, ["--errors", "--level", "info"])
    assert refused.exit_code == 2 and "--errors shows ERROR and CRITICAL only" in refused.output
