"""``logmonitor demo``: simulated services that log realistic traffic through KafkaLogHandler."""

from __future__ import annotations

import signal

import click

from logmonitor.dev.demo import DemoTraffic

__all__ = ["demo"]


@click.command()
@click.option("--rate", type=float, default=20.0, show_default=True, help="Records per second, all services.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds [run until stopped].")
@click.option("--burst-every", type=float, default=120.0, show_default=True,
              help="Mean seconds between error bursts of one service.")
@click.option("--seed", type=int, default=None, help="Make the traffic reproducible.")
@click.option("--deploy-after", type=float, default=90.0, show_default=True,
              help="Seconds until payment moves to a new release (negative: never).")
def demo(rate: float, duration: float | None, burst_every: float, seed: int | None, deploy_after: float) -> None:
    """Log like usermanagement, booking, notification and payment would (to $KAFKA_BOOTSTRAP_SERVERS).

    Every service logs with its release; after --deploy-after seconds payment moves to a new one.
    """
    if rate <= 0:
        raise click.BadParameter("must be positive", param_hint="--rate")
    traffic = DemoTraffic(rate=rate, seed=seed, burst_every=burst_every,
                          deploy_after=None if deploy_after < 0 else deploy_after)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: traffic.stop.set())
    click.echo(f"demo: logged {traffic.run(duration)} records")
