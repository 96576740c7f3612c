"""What stands in front of every route, on a tiny aiohttp app (no worker): auth, CORS, JSON errors, headers."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from logmonitor.settings import Settings
from logmonitor.web.middleware import CONTENT_SECURITY_POLICY, add_security_headers, middlewares, token_matches

TOKEN = "s3cret-token"
ORIGIN = "https://grafana.example"
Client = TestClient[web.Request, web.Application]


async def logs(request: web.Request) -> web.Response:
    return web.json_response({"logs": []})


async def upload(request: web.Request) -> web.Response:
    return web.json_response({"bytes": len(await request.read())})


async def boom(request: web.Request) -> web.Response:
    raise RuntimeError("secret internals")


async def refused(request: web.Request) -> web.Response:
    raise web.HTTPBadRequest(text='{"error": "bad_parameter", "detail": "x"}', content_type="application/json")


def tiny_app(**env: str) -> web.Application:
    """The routes above behind the middlewares the settings ask for, as the worker sets them up."""
    app = web.Application(middlewares=middlewares(Settings.from_env(env)), client_max_size=1024)
    app.on_response_prepare.append(add_security_headers)
    app.router.add_get("/api/v1/health", logs)
    app.router.add_get("/", logs)
    app.router.add_get("/static/{name}", logs)
    app.router.add_get("/api/v1/logs", logs)
    app.router.add_post("/api/v1/upload", upload)
    app.router.add_get("/api/v1/boom", boom)
    app.router.add_get("/api/v1/refused", refused)
    return app


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    server = TestServer(tiny_app(LOGMONITOR_AUTH_TOKEN=TOKEN, LOGMONITOR_CORS_ORIGINS=f"{ORIGIN}, https://b"),
                        host="127.0.0.1")
    async with TestClient(server) as test_client:
        yield test_client


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(("header", "matches"), [
    (f"Bearer {TOKEN}", True), (f"bearer   {TOKEN} ", True), (basic("grafana", TOKEN), True), (basic("", TOKEN), True),
    (None, False), ("", False), (f"Bearer {TOKEN}x", False), (f"Bearer {TOKEN[:-1]}", False), ("Bearer", False),
    (basic(TOKEN, "wrong"), False), ("Basic !!!not-base64", False), ("Basic " + base64.b64encode(b"\xff:\xfe").decode(),
                                                                     False), (f"Token {TOKEN}", False), (TOKEN, False),
    ("Basic ü", False), ("Basic " + "\u00fc" * 4, False), (f"Bearer {TOKEN}\udcff", False), ("Bearer \udcff", False),
])
def test_the_token_check(header: str | None, matches: bool) -> None:
    assert token_matches(header, TOKEN) is matches


async def test_without_a_token_requests_get_a_json_401_with_a_basic_challenge(client: Client) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = await client.get("/api/v1/logs", headers=headers)
        assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert (await response.json())["error"] == "unauthorized"
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, "early answers too"
    assert (await client.get("/api/v1/health")).status == 200, "the health check is open"
    ok = await client.get("/api/v1/logs", headers={"Authorization": basic("grafana", TOKEN)})
    assert ok.status == 200 and await ok.json() == {"logs": []}


async def test_nothing_but_health_answers_without_the_token_not_even_the_dashboards_page(client: Client) -> None:
    assert (await client.get("/api/v1/health")).status == 200
    for path in ("/", "/static/dashboard.js", "/static/groups.js", "/api/v1/logs", "/api/v1/health/x"):
        refused = await client.get(path)
        assert refused.status == 401, path
        assert refused.headers["WWW-Authenticate"].startswith("Basic "), "the browser asks for the token"


async def test_aiohttps_own_refusals_and_failures_answer_in_the_api_error_shape(client: Client) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answers = {
        404: await client.get("/api/v1/nowhere", headers=auth),
        405: await client.delete("/api/v1/logs", headers=auth),
        413: await client.post("/api/v1/upload", data=b"x" * 2048, headers=auth),
        500: await client.get("/api/v1/boom", headers=auth),
    }
    for status, response in answers.items():
        assert response.status == status and response.content_type == "application/json", status
        body = await response.json()
        assert set(body) == {"error", "detail"} and "secret internals" not in body["detail"], status
        assert response.headers["X-Content-Type-Options"] == "nosniff", status
    assert (await answers[404].json())["error"] == "not_found"
    assert "GET" in answers[405].headers["Allow"], "aiohttp's own headers are kept"
    assert (await answers[413].json())["error"] == "request_entity_too_large"
    assert (await answers[500].json())["error"] == "internal"
    refused = await client.get("/api/v1/refused", headers=auth)
    assert refused.status == 400 and (await refused.json())["error"] == "bad_parameter", "an API error passes as is"


async def test_a_failure_answers_a_fixed_message_and_the_request_id_the_log_has(
        client: Client, caplog: pytest.LogCaptureFixture) -> None:
    response = await client.get("/api/v1/boom", headers={"Authorization": f"Bearer {TOKEN}"})
    identifier = response.headers["X-Request-Id"]
    assert len(identifier) == 32 and identifier in (await response.json())["detail"]
    (logged,) = [r for r in caplog.records if identifier in r.getMessage()]
    assert logged.exc_info is not None and "secret internals" in str(logged.exc_info[1]), "the details are logged"
    other = await client.get("/api/v1/logs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert other.headers["X-Request-Id"] not in ("", identifier), "every answer has an id of its own"


async def test_every_answer_has_the_security_headers(client: Client) -> None:
    response = await client.get("/api/v1/logs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


async def test_cors_answers_preflights_for_allowed_origins_only(client: Client) -> None:
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    answer = await client.options("/api/v1/logs", headers=preflight)
    assert answer.status == 204 and answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "authorization" in answer.headers["Access-Control-Allow-Headers"] and answer.headers["Vary"] == "Origin"
    stranger = await client.options("/api/v1/logs", headers={**preflight, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    simple = await client.get("/api/v1/logs", headers={"Origin": "https://b", "Authorization": f"Bearer {TOKEN}"})
    assert simple.status == 200 and simple.headers["Access-Control-Allow-Origin"] == "https://b"


async def test_without_settings_nothing_is_asked_and_nothing_is_allowed_across_origins() -> None:
    async with TestClient(TestServer(tiny_app(), host="127.0.0.1")) as open_client:
        response = await open_client.get("/api/v1/logs", headers={"Origin": ORIGIN})
        assert response.status == 403 and "Access-Control-Allow-Origin" not in response.headers, "another site's page"
        assert (await open_client.get("/api/v1/logs")).status == 200
        assert (await open_client.get("/api/v1/boom")).status == 500
