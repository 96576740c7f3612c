"""``python -m logmonitor`` is the ``logmonitor`` command."""

from logmonitor.cli import main

main()
