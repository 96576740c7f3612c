"""What the terminal commands (``tail``, ``groups``) share: the worker they ask, their errors, their output."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import IO, Any, TypeVar

import click
import orjson

from logmonitor.commands.worker_api import DEFAULT_URL, WorkerApi

__all__ = ["CommandError", "aligned", "api_of", "echo_json", "json_option", "printable", "styled_level", "url_option"]

F = TypeVar("F", bound=Callable[..., Any])

LEVEL_STYLES: dict[str, dict[str, Any]] = {
    "DEBUG": {"fg": "blue"}, "INFO": {"fg": "green"}, "WARNING": {"fg": "yellow"},
    "ERROR": {"fg": "red"}, "CRITICAL": {"fg": "red", "bold": True, "reverse": True},
}
LEVEL_WIDTH = max(len(level) for level in LEVEL_STYLES)
# Log text is anyone's: its control characters (escape sequences that would drive the terminal, line breaks that
# would forge lines) are shown as escapes, never sent to the terminal.
CONTROLS = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]} | {0x0A: "\\n", 0x09: " "}


class CommandError(click.ClickException):
    """One line on stderr, ``logmonitor <command>: <what to do>``, and exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        context = click.get_current_context(silent=True)  # raised inside the command that failed
        self.command_path = context.command_path if context is not None else "logmonitor"

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the line, naming the command that failed."""
        click.echo(f"{self.command_path}: {self.format_message()}", err=True, file=file)


def url_option(command: F) -> F:
    """``--url``: the worker to ask (``$LOGMONITOR_URL``, else the local worker's default)."""
    return click.option("--url", envvar="LOGMONITOR_URL", default=DEFAULT_URL, show_default=True,
                        help="The worker's address [$LOGMONITOR_URL].")(command)


def json_option(command: F) -> F:
    """``--json``: the API's answer as JSON, for scripts."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (one object a line) for scripts.")(command)


def api_of(url: str) -> WorkerApi:
    """A client of the worker at ``url`` with the token of ``$LOGMONITOR_AUTH_TOKEN`` (never a command-line argument:
    those show in the process list)."""
    return WorkerApi(url, os.environ.get("LOGMONITOR_AUTH_TOKEN"))


def echo_json(value: Any) -> None:
    """``value`` as one line of JSON on stdout."""
    click.echo(orjson.dumps(value).decode())


def styled_level(level: str) -> str:
    """``level`` padded to the widest level, in its colour (click drops colours when stdout is not a terminal)."""
    padded = level.ljust(LEVEL_WIDTH)
    return click.style(padded, **LEVEL_STYLES[level]) if level in LEVEL_STYLES and _colour() else padded


def _colour() -> bool:
    return "NO_COLOR" not in os.environ  # https://no-color.org


def printable(value: object) -> str:
    """``value`` as text with its control characters escaped (``\\x1b``, ``\\n``): one line that cannot drive the
    terminal."""
    return str(value).translate(CONTROLS)


def aligned(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """``rows`` under ``headers`` in columns as wide as their widest cell, two spaces apart; the last unpadded."""
    widths = [max(len(row[column]) for row in [headers, *rows]) for column in range(len(headers) - 1)]
    return ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()
            for row in [headers, *rows]]
