"""The status-command agent: applies each ``PATCH /api/v1/logs/groups/{id}`` to its group's triage state.

The view produces the command (``triage/commands.py``) to the command topic, keyed by service, in
the partition number of the group's source partition; the topic is co-partitioned with
``application-logs``, so the worker owning the group handles the command and writes the state
while handling it (the changelog partition is the group's). Each command carries its topic
offset into the state, so one read again after a kill changes nothing. A value that is not a
command, or one for a group this worker does not hold, is logged and skipped.

After a kill, a command is read again together with the records before it, and may come before
the record that made its group is counted again (its changelog write lost with the process):
a command for a group not held yet waits up to ``GROUP_WAIT_SECONDS`` (10 s) for the router to count it,
rather than being skipped and its change lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson
from faust import App
from faust.types import TopicT

from logmonitor.engine.current_event import writing_as_handler_of
from logmonitor.pipeline.tables.all_tables import Tables
from logmonitor.pipeline.tables.group_states import split_group_id, state_key
from logmonitor.triage.commands import TriageError, command_from_message
from logmonitor.triage.status import apply_command

__all__ = ["GROUP_WAIT_SECONDS", "add_status_commands", "apply_status_command", "wait_for_group"]

log = logging.getLogger(__name__)

GROUP_WAIT_SECONDS = 10.0
_POLL_SECONDS = 0.05


def _group_key(value: bytes | None) -> str | None:
    """The state key of the group a command names (None: not a command)."""
    try:
        command = command_from_message(orjson.loads(value or b""))
    except (orjson.JSONDecodeError, TriageError):
        return None
    names = split_group_id(command.group)
    return state_key(*names) if names is not None and names[0] == command.service else None


async def wait_for_group(tables: Tables, value: bytes | None, seconds: float = GROUP_WAIT_SECONDS) -> bool:
    """Wait until the group the command ``value`` names is held, at most ``seconds``; whether it is."""
    key = _group_key(value)
    if key is None:
        return False
    deadline = time.monotonic() + seconds
    while key not in tables.error_groups:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL_SECONDS)  # the router's turn: it may be counting the group's record again
    return True


def apply_status_command(tables: Tables, value: bytes | None, partition: int, offset: int) -> bool:
    """Apply the command topic's ``value`` at ``partition``/``offset``; whether a state was written.

    Must run while handling that command's event (the state's changelog goes to its partition).
    The state is read and written with nothing awaited in between, so no event applied by the
    router meanwhile is lost.
    """
    try:
        command = command_from_message(orjson.loads(value or b""))
    except orjson.JSONDecodeError:
        log.warning("skipped command %d/%d: not JSON", partition, offset)
        return False
    except TriageError as error:
        log.warning("skipped command %d/%d: %s", partition, offset, error.detail)
        return False
    names = split_group_id(command.group)
    if names is None or names[0] != command.service or state_key(*names) not in tables.error_groups:
        log.warning("skipped command %d/%d: no group %r of service %r here", partition, offset,
                    command.group[:100], command.service[:100])
        return False
    key = state_key(*names)
    applied = apply_command(tables.group_states.get(key), command, partition, offset)
    if applied.changed:
        tables.group_states[key] = applied.state
    return applied.changed


def add_status_commands(app: App, commands_topic: TopicT, tables: Tables) -> None:
    """Give ``app`` the agent that applies the status commands of ``commands_topic``."""

    async def apply_status_commands(stream: Any) -> None:
        """Apply each command as the handler of its own event."""
        async for event in stream.events():
            message = event.message
            await wait_for_group(tables, message.value)
            with writing_as_handler_of(event):
                apply_status_command(tables, message.value, message.partition, message.offset)

    app.agent(commands_topic, concurrency=1)(apply_status_commands)
