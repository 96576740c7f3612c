"""``logmonitor up``: what ``make run`` runs — local Kafka, a worker, an ingest server and the demo services."""

from __future__ import annotations

import os
import sys

import click

from logmonitor.dev.devstack import DevStack, DevStackError

__all__ = ["up"]


@click.command()
@click.option("--fresh", is_flag=True, help="Wipe the local broker's topics first.")
@click.option("--no-demo", is_flag=True, help="Do not start the demo services.")
@click.option("--demo-rate", type=float, default=20.0, show_default=True, help="Demo logs per second.")
def up(fresh: bool, no_demo: bool, demo_rate: float) -> None:
    """Start local Kafka (unless KAFKA_BOOTSTRAP_SERVERS is set), a worker, ingest and the demo; Ctrl-C stops them."""
    stack = DevStack(
        web_port=int(os.environ.get("LOG_MONITOR_SERVER_PORT", "5004")),
        demo=not no_demo, demo_rate=demo_rate, fresh=fresh,
    )
    try:
        stack.run()
    except DevStackError as error:
        click.echo(f"logmonitor up: {error}", err=True)
        sys.exit(1)
