"""Peer requests carry a credential derived from the token, never the token (issue 26 item 4)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from logmonitor.peer_credential import HEADER, WINDOW_SECONDS, credential_valid, peer_credential, peer_key
from logmonitor.read import cluster
from logmonitor.settings import Settings
from logmonitor.web.middleware import middlewares

TOKEN = "peer-token-0123456789"
KEY = peer_key(TOKEN)
TARGET = "/api/v1/internal/partial/errors?service=a+b&q=%C3%BC"
NOW = 1_800_000_000.0


def test_a_credential_opens_its_own_request_within_the_window_only() -> None:
    credential = peer_credential(KEY, "GET", TARGET, NOW)
    assert TOKEN not in credential and KEY.hex() not in credential and TOKEN.encode() not in KEY
    assert credential_valid(KEY, credential, "GET", TARGET, NOW)
    assert credential_valid(KEY, credential, "GET", TARGET, NOW + WINDOW_SECONDS), "clocks may differ a little"
    assert credential_valid(KEY, credential, "GET", TARGET, NOW - WINDOW_SECONDS)
    assert not credential_valid(KEY, credential, "GET", TARGET, NOW + WINDOW_SECONDS + 1), "short-lived"
    assert not credential_valid(KEY, credential, "POST", TARGET, NOW)
    assert not credential_valid(KEY, credential, "GET", TARGET.replace("a+b", "a+c"), NOW)
    assert not credential_valid(KEY, credential, "GET", "/api/v1/internal/partial/group", NOW)
    assert not credential_valid(peer_key(TOKEN + "x"), credential, "GET", TARGET, NOW), "another token, another key"


@pytest.mark.parametrize("credential", [
    "", ".", "1800000000", "1800000000.", "x.abc", "1800000000.zz", "\uff11\uff18" + "\uff10" * 8 + ".ab",
    "-1800000000.ab", "9" * 40 + ".ab", "1800000000.\udcff", "1800000000." + "ü" * 64,
])
def test_malformed_credentials_are_refused_without_raising(credential: str) -> None:
    assert not credential_valid(KEY, credential, "GET", TARGET, NOW)


async def partial(request: web.Request) -> web.Response:
    return web.json_response({"raw_path": request.raw_path, "authorization": request.headers.get("Authorization"),
                              "peer": request.headers.get(HEADER)})


@pytest.fixture
async def worker() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """A tiny app behind the worker's middlewares with a token."""
    app = web.Application(middlewares=middlewares(Settings.from_env({"LOGMONITOR_AUTH_TOKEN": TOKEN})))
    app.router.add_get("/api/v1/internal/partial/{kind}", partial)
    app.router.add_get("/api/v1/logs/stats", partial)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def test_the_fan_out_sends_a_credential_the_peer_takes_and_no_token(
        worker: TestClient[web.Request, web.Application]) -> None:
    url = str(worker.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        seen = await cluster._fetch(session, url, "errors", {"service": "a b", "q": "ü"}, KEY)
    assert seen["authorization"] is None, "the token never leaves for a peer"
    assert seen["raw_path"] == TARGET and credential_valid(KEY, seen["peer"], "GET", TARGET, time.time())


async def test_a_request_without_a_query_is_signed_as_sent(worker: TestClient[web.Request, web.Application]) -> None:
    url = str(worker.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        seen = await cluster._fetch(session, url, "summary", {}, KEY)
    assert seen["raw_path"] == "/api/v1/internal/partial/summary"
    assert credential_valid(KEY, seen["peer"], "GET", seen["raw_path"], time.time())


async def test_the_peer_credential_opens_only_the_internal_routes(
        worker: TestClient[web.Request, web.Application]) -> None:
    now = time.time()
    signed = {HEADER: peer_credential(KEY, "GET", TARGET, now)}
    assert (await worker.get(TARGET, headers=signed)).status == 200
    stats = "/api/v1/logs/stats"
    assert (await worker.get(stats, headers={HEADER: peer_credential(KEY, "GET", stats, now)})).status == 401
    other = "/api/v1/internal/partial/group?id=x"
    assert (await worker.get(other, headers=signed)).status == 401, "a credential is for its own request"
    stale = {HEADER: peer_credential(KEY, "GET", TARGET, now - 2 * WINDOW_SECONDS)}
    assert (await worker.get(TARGET, headers=stale)).status == 401
    assert (await worker.get(TARGET, headers={"Authorization": f"Bearer {TOKEN}"})).status == 200, "callers too"
