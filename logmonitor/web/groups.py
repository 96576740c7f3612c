"""Error groups and their triage: ``GET /api/v1/logs/groups``, ``GET`` and ``PATCH /api/v1/logs/groups/{id}``.

A PATCH is a command through Kafka (``pipeline/status_commands.py``): produced to the group's
partition of the command topic, applied by the worker that owns the group. The view then waits
(at most :data:`APPLY_WAIT` seconds) until that worker's answer shows the command applied, and
answers 200 with the group as every worker now shows it; else 202 with the command, still on its way.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import orjson
from aiohttp import web
from aiokafka.errors import KafkaError
from faust.web import Request, Response

from logmonitor.pipeline.tables.group_states import split_group_id
from logmonitor.read.group_triage import group_query, merge_group_detail, merge_group_lists
from logmonitor.triage.commands import StatusCommand, TriageError, parse_patch
from logmonitor.web.base import ApiView
from logmonitor.web.errors import ApiError, BadParameter, NotFound, Unavailable
from logmonitor.web.middleware import request_id

__all__ = ["APPLY_WAIT", "GroupListView", "GroupView"]

APPLY_WAIT = 10.0
"""Seconds a PATCH waits for Kafka to take its command, and again for the owning worker to apply it."""
_POLL = 0.05
_INTERNAL = ("partition", "commands_applied")  # what the group partial holds for the PATCH only


class CommandNotSent(Unavailable):
    """Kafka did not take the command: nothing changed."""

    error = "kafka_unavailable"
    message = "the status change did not reach Kafka; nothing changed, send it again"


def _refusal(error: TriageError) -> ApiError:
    refusal = BadParameter(error.detail)
    refusal.error = error.code
    return refusal


def _shown(group: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in group.items() if name not in _INTERNAL}


class GroupListView(ApiView):
    """Error groups with their statuses, filtered and sorted."""

    async def get(self, request: Request) -> Response:
        """``?status=&service=&q=&sort=last_seen|first_seen|count|trend&limit=100`` → ``{"groups", "count", ...}``."""
        query = group_query(request.query)
        return self.json(merge_group_lists(await self.gather("triage", request.query), query))


class GroupView(ApiView):
    """One error group: its detail, and changes of its status."""

    async def _group(self, request: Request, group: str) -> dict[str, Any]:
        if split_group_id(group) is None:
            raise NotFound(f"no error group has the id {group[:100]!r}")
        found = merge_group_detail(await self.gather("group", {"id": group}))
        if found is None:
            raise NotFound(f"no error group {group[:100]!r}: never seen, or expired")
        return found

    async def get(self, request: Request, id: str) -> Response:
        """First/last seen, count, hosts, statuses, hourly (24 h) and daily (14 d) counts, history, latest events."""
        return self.json(_shown(await self._group(request, id)))

    async def patch(self, request: Request, id: str) -> Response:
        """``{"status": "unresolved"|"resolved"|"ignored", "ignore": {"count": N}|{"until": time}|{}}``.

        200 with the group once its owner applied the change; 202 with the command if that takes
        longer than :data:`APPLY_WAIT`; 400 for a bad body; 404 for an unknown group.
        """
        body = await request.read()  # aiohttp refuses bodies over 1 MiB (413); parse_patch those over 4 KiB
        group = await self._group(request, id)
        settings = self.context.settings
        who = settings.auth_token_label if settings.auth_token and settings.auth_token_label else "anonymous"
        service, _fingerprint = split_group_id(id) or ("", "")
        try:
            command = parse_patch(body, group=id, service=service, current=group["status"], who=who, now=time.time(),
                                  request_id=request_id(cast(web.BaseRequest, request)))
        except TriageError as error:
            raise _refusal(error) from None
        partition, offset = await self._send(command, group["partition"])
        applied = await self._applied(request, id, partition, offset)
        if applied is None:
            return self.json({"command": command.as_message(), "applied": False}, status=202)
        return self.json(_shown(applied))

    async def _send(self, command: StatusCommand, partition: int) -> tuple[int, int]:
        """Produce ``command`` to ``partition`` of the command topic; its partition and offset once Kafka has it."""
        try:
            sent = await self.context.topics.commands.send(
                key=command.service.encode(), value=orjson.dumps(command.as_message()), partition=partition)
            metadata = await asyncio.wait_for(asyncio.shield(sent), APPLY_WAIT)
        except (KafkaError, asyncio.TimeoutError) as error:
            raise CommandNotSent(f"the status change did not reach Kafka: {error!r}") from None
        return metadata.partition, metadata.offset

    async def _applied(self, request: Request, group: str, partition: int, offset: int) -> dict[str, Any] | None:
        """The group once its state has applied the command at ``partition``/``offset``; None after the wait."""
        deadline = time.monotonic() + APPLY_WAIT
        while True:
            found = merge_group_detail(await self.gather("group", {"id": group}))
            if found is not None and found["commands_applied"].get(str(partition), -1) >= offset:
                return found
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(_POLL)
