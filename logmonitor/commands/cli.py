"""``logmonitor`` and ``python -m logmonitor``: logmonitor's commands, and Faust's behind them (``worker``)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

from logmonitor.commands.about import SERVER_INSTALL, version_line

__all__ = ["check_engine", "check_exposure", "main"]

def _exit_with(message: str) -> NoReturn:
    print(f"logmonitor: {message}", file=sys.stderr)
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
        print("logmonitor: warning: the API answers anyone who can reach it (LOGMONITOR_ALLOW_ANONYMOUS=true), "
                   "at loopback names, the advertised host and LOGMONITOR_ALLOWED_HOSTS", file=sys.stderr)


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
    print(f"logmonitor: warning: running on an engine logmonitor was not verified with: {untested} "
          "(LOGMONITOR_ALLOW_UNTESTED_ENGINE=true)", file=sys.stderr)


def main() -> None:
    """Run a command: logmonitor's own (:mod:`logmonitor.commands.root`), else Faust's (``worker`` and the engine's)."""
    args = sys.argv[1:]
    if args[:1] == ["--version"]:  # before anything that may be missing from a handler-only install
        print(version_line())
        sys.exit(0)
    try:
        import click  # noqa: F401
        import faust  # noqa: F401
    except ImportError:
        _exit_with(f"the worker and its commands need the server extra: {SERVER_INSTALL}")
    from logmonitor.commands.root import OWN_COMMANDS, root

    command = next((arg for arg in args if not arg.startswith("-")), None)
    if command is None or command in OWN_COMMANDS:
        if command == "retention" and "--help" not in args:
            _require_broker(_settings())
        root.main(args, prog_name="logmonitor")
    _run_faust(command)


def _settings() -> Any:
    from logmonitor.settings import ConfigError, Settings

    try:
        return Settings.from_env()
    except ConfigError as error:
        _exit_with(str(error))


def _require_broker(settings: Any) -> None:
    from logmonitor.broker_probe import wait_for_metadata

    if not wait_for_metadata(settings.bootstrap_servers, settings.broker_wait.total_seconds(),
                             security=settings.security):
        _exit_with(
            f"no Kafka broker answers at {settings.bootstrap_servers}. Start one with "
            "`logmonitor kafka start` (or `make run`), or point KAFKA_BOOTSTRAP_SERVERS at a cluster."
        )


def _run_faust(command: str | None) -> None:
    """``worker`` and Faust's own commands, through Faust's CLI and the app."""
    from logmonitor.settings import ConfigError

    settings = _settings()
    if command == "worker":
        check_engine(settings)  # before the engine's modules load
        check_exposure(settings, sys.argv[1:])
    from logmonitor.server.app import create_app

    try:
        app = create_app(settings)
    except ConfigError as error:
        _exit_with(str(error))
    if command == "worker":
        _require_broker(settings)
        _prepare_topics(app, settings)
    app.main()
