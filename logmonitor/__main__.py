"""``python -m logmonitor`` is the ``logmonitor`` command."""

from logmonitor.commands.cli import main

main()
