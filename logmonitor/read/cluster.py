"""Answer from every worker of the app: the local partial plus each peer's, over HTTP.

Each worker computes its partial for the source partitions actively assigned to it; the
partitions of different workers are disjoint, so merging the partials gives one complete
answer, the same whichever worker was asked (DESIGN section 5).
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import orjson
from yarl import URL

from logmonitor.peer_credential import HEADER, peer_credential, peer_key
from logmonitor.read.partials import PARTIALS, TableState, answer_of
from logmonitor.read.queries import Partitions
from logmonitor.web.errors import Unavailable

__all__ = ["Cluster", "PeerUnavailable", "gather"]


class Cluster(TableState, Protocol):
    """A worker among its peers: its app, its tables and settings, the partitions it owns."""

    @property
    def app(self) -> Any:
        """The faust.App (its web router knows the peers)."""

    def owned_partitions(self) -> Partitions:
        """The ``application-logs`` partitions this worker actively processes."""


_PEER_TIMEOUT = aiohttp.ClientTimeout(total=5)


class PeerUnavailable(Unavailable):
    """A peer worker did not answer: better no answer than an incomplete one."""

    error = "peer_unavailable"
    message = "another worker of this app did not answer, so no complete answer can be given; try again"


def _peer_urls(app: Any) -> list[str]:
    own = str(app.conf.canonical_url).rstrip("/")
    return sorted({str(url).rstrip("/") for url in app.router.tables_metadata()} - {own})


async def _fetch(session: aiohttp.ClientSession, url: str, kind: str, query: Mapping[str, str],
                 key: bytes | None) -> Any:
    encoded = urllib.parse.urlencode(dict(query))
    target = f"/api/v1/internal/partial/{kind}" + (f"?{encoded}" if encoded else "")  # as sent: what is signed
    # Never the caller's token: a credential for this one request, derived from it (peer_credential.py).
    headers = {HEADER: peer_credential(key, "GET", target, time.time())} if key is not None else {}
    try:
        async with session.get(URL(url + target, encoded=True), headers=headers) as response:
            if response.status != 200:
                raise PeerUnavailable(f"worker {url} answered {response.status}")
            return orjson.loads(await response.read())
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise PeerUnavailable(f"worker {url} did not answer: {error}") from None


async def gather(context: Cluster, kind: str, query: Mapping[str, str]) -> list[Any]:
    """Every worker's partial answer of ``kind`` for ``query`` (this worker's first).

    With an API token, peers are asked with a credential derived from it, never with the token.

    Raises:
        PeerUnavailable: a peer did not answer.
    """
    local = await answer_of(PARTIALS[kind](context, query, context.owned_partitions()))
    peers = _peer_urls(context.app)
    if not peers:
        return [local]
    token = context.settings.auth_token
    key = peer_key(token) if token else None
    async with aiohttp.ClientSession(timeout=_PEER_TIMEOUT) as session:
        remote = await asyncio.gather(*(_fetch(session, url, kind, query, key) for url in peers))
    return [local, *remote]
