"""Error groups and their triage: ``GET /api/v1/logs/groups``, ``GET`` and ``PATCH /api/v1/logs/groups/{id}``.

A PATCH is a command through Kafka (``pipeline/status_commands.py``): produced to the group's
partition of the command topic, applied by the worker that owns the group. The view then waits
(at most :data:`APPLY_WAIT` seconds) until that worker's answer shows the command applied, and
answers 200 with the group as every worker now shows it; else 202 with the command, pending: it
may still be applied (Kafka has not acknowledged it yet, or the owner has not applied it yet).
Only a command the producer refused outright is a 503: nothing of it can land. Sending the same
PATCH again is harmless: setting the status a group already has changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any, Protocol, cast

import orjson
from aiohttp import web
from aiokafka.errors import BrokerResponseError, KafkaError
from faust.web import Request, Response

from logmonitor.pipeline.tables.group_states import split_group_id
from logmonitor.read.group_triage import group_query, merge_group_detail, merge_group_lists
from logmonitor.triage.commands import StatusCommand, TriageError, parse_patch
from logmonitor.web.base import ApiView
from logmonitor.web.errors import ApiError, BadParameter, NotFound, Unavailable, UnsupportedMediaType
from logmonitor.web.middleware import request_id

__all__ = ["APPLY_WAIT", "CommandNotSent", "GroupListView", "GroupView", "send_command"]

APPLY_WAIT = 10.0
"""Seconds a PATCH waits for Kafka to take its command, and again for the owning worker to apply it."""
PENDING = ("the change is on its way and may still be applied; the group's history shows it once it is. "
           "Sending the same change again is harmless")
_POLL = 0.05
logger = logging.getLogger(__name__)
_INTERNAL = ("partition", "commands_applied")  # what the group partial holds for the PATCH only


class CommandNotSent(Unavailable):
    """Kafka refused the command: nothing changed."""

    error = "kafka_unavailable"
    message = "Kafka refused the status change; nothing changed"


class CommandTopic(Protocol):
    """What :func:`send_command` needs of the command topic (a ``faust.Topic``)."""

    async def send(self, *, key: bytes, value: bytes, partition: int) -> Awaitable[Any]:
        """Hand a message to the producer; the awaitable settles with its metadata once Kafka has it."""


_sending: set[asyncio.Future[Any]] = set()  # sends that outlived their request: they may still land


def _outlived(delivery: asyncio.Future[Any]) -> None:
    _sending.discard(delivery)
    if not delivery.cancelled() and (error := delivery.exception()) is not None:
        logger.warning("a pending status change did not reach Kafka after all: %r", error)


async def send_command(topic: CommandTopic, command: StatusCommand, partition: int, wait: float
                       ) -> tuple[int, int] | None:
    """Produce ``command`` to ``partition`` of ``topic``; its partition and offset once Kafka acknowledged it.

    None when that is not known within ``wait`` seconds, or Kafka failed in a way after which the
    command may have landed (a timeout, a retriable error): the send goes on, so the change may
    still be applied, and the answer must say so.

    Raises:
        CommandNotSent: the broker refused the command (a non-retriable error), or the producer did not
            take it: nothing of it can land.
    """
    handed_over = asyncio.Event()

    async def produce() -> Any:
        sent = await topic.send(key=command.service.encode(), value=orjson.dumps(command.as_message()),
                                partition=partition)
        handed_over.set()
        return await sent

    delivery = asyncio.ensure_future(produce())
    _sending.add(delivery)
    delivery.add_done_callback(_outlived)
    try:
        metadata = await asyncio.wait_for(asyncio.shield(delivery), wait)
    except (KafkaError, asyncio.TimeoutError) as error:
        refused = isinstance(error, BrokerResponseError) and not error.retriable
        if refused or (isinstance(error, KafkaError) and not handed_over.is_set()):
            raise CommandNotSent(f"Kafka refused the status change: {error!r}") from None
        _log_pending(command, error)
        return None
    return metadata.partition, metadata.offset


def _log_pending(command: StatusCommand, error: BaseException) -> None:
    logger.warning("request %s: Kafka has not acknowledged the status change of group %s (%r); it may still be "
                   "applied", command.request_id, command.group[:100], error)


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

        200 with the group once its owner applied the change; 202 with the command, pending, while it
        may still be applied (not acknowledged or not applied within :data:`APPLY_WAIT`); 503 when the
        producer refused it outright; 400 for a bad body; 415 for a body that is not JSON by its
        Content-Type; 404 for an unknown group.
        """
        if cast(web.BaseRequest, request).content_type != "application/json":
            raise UnsupportedMediaType("send the change as Content-Type: application/json")
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
        sent = await send_command(self.context.topics.commands, command, group["partition"], APPLY_WAIT)
        applied = None if sent is None else await self._applied(id, *sent)
        if applied is None:
            return self.json({"command": command.as_message(), "applied": False, "pending": True, "detail": PENDING},
                             status=202)
        return self.json(_shown(applied))

    async def _applied(self, group: str, partition: int, offset: int) -> dict[str, Any] | None:
        """The group once its state has applied the command at ``partition``/``offset``; None after the wait."""
        deadline = time.monotonic() + APPLY_WAIT
        while True:
            found = merge_group_detail(await self.gather("group", {"id": group}))
            if found is not None and found["commands_applied"].get(str(partition), -1) >= offset:
                return found
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(_POLL)
