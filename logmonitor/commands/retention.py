"""``logmonitor retention show|set``: the topics' retention on the cluster."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from logmonitor.server.topic_admin import ConfigRefused, read_retention, set_retention
from logmonitor.settings import ConfigError, Settings, format_duration, parse_duration

__all__ = ["retention"]


T = TypeVar("T")


def _on_cluster(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; the cluster refusing it is one clear line, not a traceback."""
    try:
        return asyncio.run(work)
    except ConfigRefused as refused:
        raise click.ClickException(str(refused)) from None


@click.group()
def retention() -> None:
    """Show or change how long Kafka keeps the project's topics."""


@retention.command()
def show() -> None:
    """Print each topic's retention."""
    current = _on_cluster(read_retention(Settings.from_env()))
    for topic, kept in sorted(current.items()):
        click.echo(f"{topic}\t{format_duration(kept)}")


@retention.command(name="set")
@click.argument("topic")
@click.argument("duration")
def set_(topic: str, duration: str) -> None:
    """Set TOPIC's retention to DURATION (e.g. 3d, 24h, 90m)."""
    settings = Settings.from_env()
    if topic not in settings.topic_retention():
        raise click.BadParameter(f"use one of {', '.join(settings.topic_retention())}", param_hint="TOPIC")
    try:
        kept = parse_duration(duration, name="DURATION")
    except ConfigError as error:
        raise click.BadParameter(str(error), param_hint="DURATION") from None
    _on_cluster(set_retention(settings, topic, kept))
    click.echo(f"{topic}\t{format_duration(kept)}")
