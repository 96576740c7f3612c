"""``logmonitor kafka start|stop|status|logs|consume``: the local development broker."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from logmonitor.commands.topic_reader import print_topic
from logmonitor.dev.localkafka import LocalKafka, LocalKafkaError, default_data_dir

__all__ = ["kafka"]


def _external_cluster() -> str | None:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None


@click.group()
@click.option("--port", type=int, default=lambda: int(os.environ.get("LOGMONITOR_KAFKA_PORT", 9092)),
              show_default="9092 or $LOGMONITOR_KAFKA_PORT", help="Client listener on 127.0.0.1.")
@click.option("--controller-port", type=int, default=None, help="KRaft controller port [port + 1].")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Broker state [$LOGMONITOR_KAFKA_DATA_DIR or ~/.cache/logmonitor/local-broker].")
@click.pass_context
def kafka(ctx: click.Context, port: int, controller_port: int | None, data_dir: Path | None) -> None:
    """A real single-node Kafka (KRaft) on 127.0.0.1 for development and tests."""
    ctx.obj = LocalKafka(
        data_dir=data_dir or default_data_dir(), port=port, controller_port=controller_port or port + 1
    )


def _fail(error: Exception) -> None:
    click.echo(f"logmonitor kafka: {error}", err=True)
    sys.exit(1)


@kafka.command()
@click.option("--fresh", is_flag=True, help="Wipe the stored topics and metadata first.")
@click.option("--timeout", type=float, default=90.0, show_default=True, help="Seconds to wait.")
@click.pass_obj
def start(broker: LocalKafka, fresh: bool, timeout: float) -> None:
    """Start the broker (resolving its jars on first use); return when it answers."""
    external = _external_cluster()
    if external:
        click.echo(f"KAFKA_BOOTSTRAP_SERVERS={external} is set: using that cluster, starting nothing.")
        return
    try:
        broker.start(fresh=fresh, timeout=timeout)
    except LocalKafkaError as error:
        _fail(error)
    click.echo(f"Kafka is up on {broker.bootstrap_servers}; log: {broker.log_file}")


@kafka.command()
@click.pass_obj
def stop(broker: LocalKafka) -> None:
    """Stop the broker this tooling started (and nothing else)."""
    click.echo("stopped" if broker.stop() else "not running")


@kafka.command()
@click.pass_obj
def status(broker: LocalKafka) -> None:
    """Say whether the broker runs and answers; exit 1 when it does not run."""
    click.echo(broker.status())
    sys.exit(0 if broker.is_running() else 1)


@kafka.command()
@click.option("-n", "--lines", type=int, default=50, show_default=True)
@click.pass_obj
def logs(broker: LocalKafka, lines: int) -> None:
    """Print the last lines of the broker log."""
    click.echo(broker.log_tail(lines))


@kafka.command()
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest record, not the newest.")
@click.option("--max-messages", type=int, default=None, help="Stop after this many records.")
@click.option("--timeout", type=float, default=None, help="Stop after this many idle seconds.")
@click.pass_obj
def consume(broker: LocalKafka, topic: str, from_beginning: bool,
            max_messages: int | None, timeout: float | None) -> None:
    """Print a topic's records (key, then value), like kafka-console-consumer."""
    print_topic(
        _external_cluster() or broker.bootstrap_servers, topic,
        from_beginning=from_beginning, max_messages=max_messages, idle_timeout=timeout,
    )
