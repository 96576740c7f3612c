"""``logmonitor tail``: follow a worker's live stream of records in the terminal.

Every new record by default (``GET /api/v1/logs/tail``), new errors with ``--errors``
(``GET /api/v1/logs/stream``); the filters are the worker's (``?service=&level=&min_level=&q=``), so only
what is shown crosses the network.
"""

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
from logmonitor.levels import ERROR_LEVELS, LEVELS

__all__ = ["tail"]

RECORDS_PATH, ERRORS_PATH = "/api/v1/logs/tail", "/api/v1/logs/stream"
RECONNECT_SECONDS = 3.0  # what the stream's own retry: field asks of browsers
SERVICE_WIDTH = 16
LEVEL = click.Choice(LEVELS, case_sensitive=False)


@click.command()
@click.option("--service", default=None, help="Only this service's records.")
@click.option("--level", type=LEVEL, default=None, help="Only this level.")
@click.option("--min-level", type=LEVEL, default=None, help="Only this level and the more severe ones.")
@click.option("--errors", is_flag=True, help="Only errors (ERROR, CRITICAL), with their group's fingerprint.")
@click.option("--grep", "text", default=None, help="Only records whose message, logger or exception holds TEXT "
              "(any case; plain text, not a pattern).")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Stop after this many records [never].")
@json_option
@url_option
def tail(service: str | None, level: str | None, min_level: str | None, errors: bool, text: str | None,
         count: int | None, as_json: bool, url: str) -> None:
    """Follow records as they arrive, coloured by level on a terminal; Ctrl-C stops."""
    level, min_level = level and level.upper(), min_level and min_level.upper()
    if errors and level is not None and level not in ERROR_LEVELS:
        raise click.UsageError("--errors shows ERROR and CRITICAL only: drop --level or choose one of those")
    api = api_of(url)
    path, event_name, what = (ERRORS_PATH, "error", "errors") if errors else (RECORDS_PATH, "record", "records")
    query = {"service": service, "level": level, "min_level": min_level, "q": text or None}
    shown = 0
    announced = False
    try:
        while True:
            for event in api.events(path, **query):
                if event.event == "status":
                    if event.data == "live" and not announced:
                        click.echo(f"logmonitor tail: following new {what} at {api.url} (Ctrl-C stops)", err=True)
                        announced = True
                elif event.event == "skipped":
                    skipped = orjson.loads(event.data)["skipped"]
                    click.echo(f"logmonitor tail: {skipped} {what} skipped: this terminal or the worker did not "
                               "keep up", err=True)
                elif event.event == event_name:
                    record = orjson.loads(event.data)
                    echo_json(record) if as_json else click.echo(line_of(record))
                    shown += 1
                    if count is not None and shown >= count:
                        return
            click.echo(f"logmonitor tail: the stream ended (the worker stops, or its feed reconnects); connecting "
                       f"again in {RECONNECT_SECONDS:.0f} s", err=True)
            announced = False
            time.sleep(RECONNECT_SECONDS)
    except ApiError as error:
        raise CommandError(str(error)) from None
    except KeyboardInterrupt:
        pass


def line_of(record: dict[str, Any]) -> str:
    """One aligned line: time, level (coloured on a terminal), service, message and the exception's type."""
    exception = record.get("exception") or {}
    kind = f"  [{printable(exception['type'])}]" if isinstance(exception.get("type"), str) else ""
    service = printable(record.get("service", "")).ljust(SERVICE_WIDTH)
    return (f"{printable(record.get('timestamp', ''))}  {styled_level(printable(record.get('level', '')))}  "
            f"{service}  {printable(record.get('message', ''))}{kind}")
