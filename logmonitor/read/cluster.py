"""Answer from every worker of the app: the local partial plus each peer's, over HTTP.

Each worker computes its partial for the source partitions actively assigned to it; the
partitions of different workers are disjoint, so merging the partials gives one complete
answer, the same whichever worker was asked (DESIGN section 5).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import orjson

from logmonitor.read.partials import PARTIALS, TableState
from logmonitor.read.queries import Partitions
from logmonitor.web.errors import ApiError

__all__ = ["Cluster", "PeerUnavailable", "gather"]


class Cluster(TableState, Protocol):
    """A worker among its peers: its app, its tables and settings, the partitions it owns."""

    @property
    def app(self) -> Any:
        """The faust.App (its web router knows the peers)."""

    def owned_partitions(self) -> Partitions:
        """The ``application-logs`` partitions this worker actively processes."""


_PEER_TIMEOUT = aiohttp.ClientTimeout(total=5)


class PeerUnavailable(ApiError):
    """A peer worker did not answer: better no answer than an incomplete one."""

    code = 503
    error = "peer_unavailable"


def _peer_urls(app: Any) -> list[str]:
    own = str(app.conf.canonical_url).rstrip("/")
    return sorted({str(url).rstrip("/") for url in app.router.tables_metadata()} - {own})


async def _fetch(session: aiohttp.ClientSession, url: str, kind: str, query: Mapping[str, str]) -> Any:
    try:
        async with session.get(f"{url}/api/v1/internal/partial/{kind}", params=dict(query)) as response:
            if response.status != 200:
                raise PeerUnavailable(f"worker {url} answered {response.status}")
            return orjson.loads(await response.read())
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise PeerUnavailable(f"worker {url} did not answer: {error}") from None


async def gather(context: Cluster, kind: str, query: Mapping[str, str], headers: Mapping[str, str]) -> list[Any]:
    """Every worker's partial answer of ``kind`` for ``query`` (this worker's first).

    Raises:
        PeerUnavailable: a peer did not answer.
    """
    local = PARTIALS[kind](context, query, context.owned_partitions())
    peers = _peer_urls(context.app)
    if not peers:
        return [local]
    forwarded = {k: v for k, v in headers.items() if k.lower() == "authorization"}
    async with aiohttp.ClientSession(timeout=_PEER_TIMEOUT, headers=forwarded) as session:
        remote = await asyncio.gather(*(_fetch(session, url, kind, query) for url in peers))
    return [local, *remote]
