"""The ``logmonitor`` command group: logmonitor's commands first, in the order a user meets them; Faust's apart.

``worker`` and Faust's own commands (``agents``, ``tables``, ...) run through Faust's CLI and the app
(:func:`logmonitor.commands.cli.main` sends them there); every other command is logmonitor's and loads
only its own module, so ``logmonitor tail`` starts without Faust.
"""

from __future__ import annotations

import importlib

import click

from logmonitor.commands.about import ABOUT, version_line

__all__ = ["OWN_COMMANDS", "root"]

# name: module and attribute, in the order --help lists them.
OWN_COMMANDS = {
    "up": "logmonitor.commands.up:up",
    "ingest": "logmonitor.commands.ingest:ingest",
    "demo": "logmonitor.commands.demo:demo",
    "kafka": "logmonitor.commands.kafka:kafka",
    "retention": "logmonitor.commands.retention:retention",
    "tail": "logmonitor.commands.tail:tail",
    "groups": "logmonitor.commands.groups:groups",
    "move-state": "logmonitor.commands.move_state:move_state",
}
WORKER_HELP = "Run a worker: route, count and group records; serve the API and the dashboard."
LISTED = ["up", "worker", "ingest", "demo", "kafka", "retention", "tail", "groups", "move-state"]


class _LogmonitorGroup(click.Group):
    """Loads a command's module when it is run or listed; lists logmonitor's commands, then Faust's under their own
    heading."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(OWN_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in OWN_COMMANDS:
            return None
        module, attribute = OWN_COMMANDS[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = 200  # whole first sentences, wrapped by write_dl
        rows = []
        for name in LISTED:
            command = self.get_command(ctx, name)
            rows.append((name, WORKER_HELP if command is None else command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
        from faust.cli.faust import cli as faust_cli

        engine = [(name, command.get_short_help_str(limit)) for name, command in sorted(faust_cli.commands.items())
                  if name not in LISTED]
        with formatter.section("Faust's own commands (the engine's)"):
            formatter.write_dl(engine)


@click.group(cls=_LogmonitorGroup, help=ABOUT, epilog="`logmonitor COMMAND --help` tells more of each.")
@click.version_option(message=version_line(), help="Show logmonitor's version (and Faust's) and exit.")
def root() -> None:
    """The root of logmonitor's commands."""
