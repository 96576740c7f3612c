"""``logmonitor tail``: follow a worker's live stream of errors in the terminal (``GET /api/v1/logs/stream``)."""

from __future__ import annotations

import time
from typing import Any

import click
import orjson

from logmonitor.commands.terminal import (
    CommandError,
    api_of,
    echo_json,
    json_option,
    printable,
    styled_level,
    url_option,
)
from logmonitor.commands.worker_api import ApiError

__all__ = ["tail"]

STREAM_PATH = "/api/v1/logs/stream"
RECONNECT_SECONDS = 3.0  # what the stream's own retry: field asks of browsers
SERVICE_WIDTH = 16
LEVELS = ("ERROR", "CRITICAL")  # what the live stream carries


@click.command()
@click.option("--service", default=None, help="Only this service's records.")
@click.option("--level", type=click.Choice(LEVELS, case_sensitive=False), default=None, help="Only this level.")
@click.option("--grep", "text", default=None, help="Only records whose message, logger or exception holds TEXT "
              "(any case).")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Stop after this many records [never].")
@json_option
@url_option
def tail(service: str | None, level: str | None, text: str | None, count: int | None, as_json: bool,
         url: str) -> None:
    """Follow errors (ERROR, CRITICAL) as they arrive; coloured by level on a terminal; Ctrl-C stops."""
    api = api_of(url)
    wanted = _matcher(text)
    shown = 0
    announced = False
    try:
        while True:
            for event in api.events(STREAM_PATH, service=service, level=level and level.upper()):
                if event.event == "status":
                    if event.data == "live" and not announced:
                        click.echo(f"logmonitor tail: following new errors at {api.url} (Ctrl-C stops)", err=True)
                        announced = True
                    continue
                if event.event != "error":
                    continue
                record = orjson.loads(event.data)
                if not wanted(record):
                    continue
                echo_json(record) if as_json else click.echo(line_of(record))
                shown += 1
                if count is not None and shown >= count:
                    return
            time.sleep(RECONNECT_SECONDS)  # the worker ended the stream (its feed reconnects, or it stops)
    except ApiError as error:
        raise CommandError(str(error)) from None
    except KeyboardInterrupt:
        pass


def _matcher(text: str | None) -> Any:
    if not text:
        return lambda record: True
    folded = text.casefold()

    def wanted(record: dict[str, Any]) -> bool:
        exception = record.get("exception") or {}
        fields = (record.get("message"), record.get("logger"), exception.get("type"), exception.get("message"))
        return any(isinstance(field, str) and folded in field.casefold() for field in fields)

    return wanted


def line_of(record: dict[str, Any]) -> str:
    """One aligned line: time, level (coloured on a terminal), service, message and the exception's type."""
    exception = record.get("exception") or {}
    kind = f"  [{printable(exception['type'])}]" if isinstance(exception.get("type"), str) else ""
    service = printable(record.get("service", "")).ljust(SERVICE_WIDTH)
    return (f"{printable(record.get('timestamp', ''))}  {styled_level(printable(record.get('level', '')))}  "
            f"{service}  {printable(record.get('message', ''))}{kind}")
