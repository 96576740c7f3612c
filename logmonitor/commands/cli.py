"""``logmonitor`` and ``python -m logmonitor``: Faust's CLI with the project's commands."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any

import click

__all__ = ["check_engine", "check_exposure", "main"]

_NEEDS_BROKER = {"worker", "retention"}


def _exit_with(message: str) -> None:
    click.echo(f"logmonitor: {message}", err=True)
    sys.exit(2)


def _prepare_topics(app: Any, settings: Any) -> None:
    """Create (or check) the topics before Faust starts, so a mismatch is one line, not a traceback."""
    import asyncio

    from logmonitor.server.topic_admin import changelog_specs, ensure_topics
    from logmonitor.settings import ConfigError

    try:
        asyncio.run(ensure_topics(settings, changelog_specs(app.tables.values(), settings)))
    except ConfigError as error:
        _exit_with(str(error))


def _web_bind(args: list[str]) -> str | None:
    """The host given to Faust's ``--web-bind``/``-b``, which wins over LOG_MONITOR_SERVER_HOST."""
    for index, arg in enumerate(args):
        if arg in ("--web-bind", "-b") and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(("--web-bind=", "-b")) and arg not in ("--web-bind=", "-b"):
            return arg.removeprefix("--web-bind=").removeprefix("-b")
    return None


def check_exposure(settings: Any, args: list[str]) -> None:
    """Refuse an API open to the network without a token; warn when it is explicitly allowed (DESIGN section 6).

    Args:
        settings: the worker's :class:`~logmonitor.settings.Settings`.
        args: the command line after the program name (a ``--web-bind`` there is where it listens).
    """
    if (bind := _web_bind(args)) is not None:
        settings = dataclasses.replace(settings, web_host=bind)
    if refusal := settings.exposure_refusal():
        _exit_with(refusal)
    if settings.anonymous_on_network:
        click.echo("logmonitor: warning: the API answers anyone who can reach it (LOGMONITOR_ALLOW_ANONYMOUS=true), "
                   "at loopback names, the advertised host and LOGMONITOR_ALLOWED_HOSTS", err=True)


def check_engine(settings: Any, installed: Mapping[str, str | None] | None = None) -> None:
    """Refuse an engine version the seam was not verified with; warn when it is explicitly allowed (DESIGN section 9).

    Args:
        settings: the worker's :class:`~logmonitor.settings.Settings`.
        installed: each engine distribution's version (default: the installed ones).
    """
    from logmonitor.engine.versions import VERIFIED, installed_versions, untested_engine

    if (untested := untested_engine(installed_versions() if installed is None else installed)) is None:
        return
    if not settings.allow_untested_engine:
        verified = " ".join(f"'{name}=={version}'" for name, version in VERIFIED.items())
        _exit_with(f"the installed engine is not the one logmonitor was verified with: {untested}. Install the "
                   f"verified versions (pip install {verified}), or set LOGMONITOR_ALLOW_UNTESTED_ENGINE=true to "
                   "try this one")
    click.echo(f"logmonitor: warning: running on an engine logmonitor was not verified with: {untested} "
               "(LOGMONITOR_ALLOW_UNTESTED_ENGINE=true)", err=True)


def main() -> None:
    """Run a command: ``worker`` (Faust's), ``kafka``, ``retention``, ``demo`` and the rest."""
    if sys.argv[1:2] == ["ingest"]:  # the ingest server needs neither Faust nor the app
        from logmonitor.commands.ingest import ingest

        ingest.main(sys.argv[2:], prog_name="logmonitor ingest")
    from logmonitor.settings import ConfigError, Settings

    try:
        import faust  # noqa: F401
    except ImportError:
        _exit_with("the worker and its commands need the server extra: pip install 'logmonitor[server]'")
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        _exit_with(str(error))
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if command == "worker":
        check_engine(settings)  # before the engine's modules load
        check_exposure(settings, sys.argv[1:])
    from logmonitor.server.app import create_app

    try:
        app = create_app(settings)
    except ConfigError as error:
        _exit_with(str(error))
    if command in _NEEDS_BROKER:
        from logmonitor.broker_probe import wait_for_metadata

        if not wait_for_metadata(settings.bootstrap_servers, settings.broker_wait.total_seconds(),
                                 security=settings.security):
            _exit_with(
                f"no Kafka broker answers at {settings.bootstrap_servers}. Start one with "
                "`logmonitor kafka start` (or `make run`), or point KAFKA_BOOTSTRAP_SERVERS at a cluster."
            )
    if command == "worker":
        _prepare_topics(app, settings)
    from faust.cli.faust import cli

    from logmonitor.commands.demo import demo
    from logmonitor.commands.ingest import ingest as ingest_command
    from logmonitor.commands.kafka import kafka
    from logmonitor.commands.retention import retention
    from logmonitor.commands.up import up

    for extra_command in (demo, ingest_command, kafka, retention, up):
        cli.add_command(extra_command)
    app.main()
