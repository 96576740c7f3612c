"""The REST API: bad parameters, auth (R6), CORS, metrics, OpenAPI, SSE, and fuzzing (R4)."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from tests.fixtures.traffic import keyed, log_record, produce

ROUTES = [
    "/", "/api/v1/logs/errors", "/api/v1/logs/errors/booking", "/api/v1/logs/stats", "/api/v1/logs/services",
    "/api/v1/logs/groups", "/api/v1/logs/series", "/api/v1/logs/stream", "/api/v1/logs/tail", "/metrics",
    "/api/v1/openapi.json",
    "/api/v1/grafana", "/api/v1/grafana/",
]


async def fetch(url: str, method: str = "GET", **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as response:
        if response.content_type == "text/event-stream":
            return response.status, dict(response.headers), b""
        return response.status, dict(response.headers), await response.read()


@pytest.fixture(scope="module")
def fed_worker(module_worker: Any) -> Any:
    """The module's worker with 20 records of booking (10 errors); the tests only read, or change a group."""
    worker = module_worker
    records = [log_record("booking", level, f"seat {i}") for i, level in enumerate(["INFO", "ERROR"] * 10)]
    asyncio.run(produce(worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"], keyed(records)))
    worker.wait_counted(20)
    return worker


BAD = [
    ("/api/v1/logs/errors", {"limit": "0"}), ("/api/v1/logs/errors", {"limit": "1001"}),
    ("/api/v1/logs/errors", {"limit": "ten"}), ("/api/v1/logs/errors", {"level": "FOO"}),
    ("/api/v1/logs/errors", {"since": "last tuesday"}), ("/api/v1/logs/errors", {"until": "nan"}),
    ("/api/v1/logs/errors", {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}),
    ("/api/v1/logs/errors", {"q": "x" * 300}), ("/api/v1/logs/errors/booking", {"limit": "-1"}),
    ("/api/v1/logs/groups", {"limit": "0"}), ("/api/v1/logs/series", {"minutes": "0"}),
    ("/api/v1/logs/series", {"minutes": "99999"}), ("/api/v1/logs/stream", {"level": "LOUD"}),
    ("/api/v1/logs/series", {"step": "90"}), ("/api/v1/logs/series", {"minutes": "1440", "step": "60"}),
    ("/api/v1/logs/series", {"top": "0"}), ("/api/v1/logs/groups", {"status": "fixed"}),
    ("/api/v1/logs/groups", {"sort": "title"}), ("/api/v1/logs/groups", {"q": "x" * 300}),
    ("/api/v1/logs/groups", {"after": "many~x", "sort": "count"}),
]


async def test_every_bad_parameter_gets_a_400_with_a_json_error(fed_worker: Any) -> None:
    for path, params in BAD:
        status, _headers, body = await fetch(fed_worker.url + path, params=params)
        assert status == 400, (path, params)
        error = orjson.loads(body)
        assert error["error"] == "bad_parameter" and error["detail"], (path, params)


async def test_an_unknown_service_is_404(fed_worker: Any) -> None:
    status, _headers, body = await fetch(fed_worker.url + "/api/v1/logs/errors/never-seen")
    assert status == 404 and orjson.loads(body)["error"] == "not_found"


async def test_faust_table_and_router_views_are_off(fed_worker: Any) -> None:
    for path in ("/table/service-state", "/router", "/graph", "/stats/"):
        status, _headers, _body = await fetch(fed_worker.url + path)
        assert status == 404, path


async def test_metrics_are_prometheus_text(fed_worker: Any) -> None:
    status, headers, body = await fetch(fed_worker.url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert 'logmonitor_records_routed_total{level="ERROR",service="booking"} 10.0' in body.decode()


async def test_openapi_lists_every_endpoint(fed_worker: Any) -> None:
    document = orjson.loads((await fetch(fed_worker.url + "/api/v1/openapi.json"))[2])
    assert document["openapi"].startswith("3.")
    for path in ("/api/v1/logs/errors", "/api/v1/logs/errors/{service}", "/api/v1/logs/stats",
                 "/api/v1/logs/services", "/api/v1/logs/groups", "/api/v1/logs/stream", "/api/v1/health"):
        assert path in document["paths"]


EXAMPLES = {"service": "booking", "name": "dashboard.js", "kind": "summary"}  # a value for each required parameter
BODIES = {"post": {}, "patch": {"status": "resolved"}}  # a body for each method that takes one


async def test_every_documented_path_answers(fed_worker: Any) -> None:
    document = orjson.loads((await fetch(fed_worker.url + "/api/v1/openapi.json"))[2])
    assert len(document["paths"]) >= 20
    group = orjson.loads((await fetch(fed_worker.url + "/api/v1/logs/groups"))[2])["groups"][0]["id"]
    for path, item in document["paths"].items():
        for method in item:
            required = [p["name"] for p in item[method].get("parameters", ()) if p["in"] == "query" and p["required"]]
            query = "&".join(f"{name}={EXAMPLES[name]}" for name in required)
            url = fed_worker.url + path.format(**EXAMPLES, id=group) + (f"?{query}" if query else "")
            status, headers, _body = await fetch(url, method=method.upper(), json=BODIES.get(method))
            assert status in (200, 503 if path in ("/api/v1/logs/stream", "/api/v1/logs/tail") else 200), \
                (method, path, status)
            wanted = next(iter(item[method]["responses"]["200"]["content"]))
            assert headers["Content-Type"].startswith(wanted.split("/")[0]), (path, headers["Content-Type"])


async def test_sse_stream_delivers_a_new_error(fed_worker: Any) -> None:
    env = fed_worker.env
    async with aiohttp.ClientSession() as session, session.get(fed_worker.url + "/api/v1/logs/stream") as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert (await stream.content.readline()).startswith(b"retry:")
        async with asyncio.timeout(30):  # once the feed says it is live, no new error is missed
            while await stream.content.readline() != b"data: live\n":
                pass
        record = log_record("booking", "CRITICAL", "fire in the data centre")
        await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], keyed([record]))
        async with asyncio.timeout(30):
            while await stream.content.readline() != b"event: error\n":
                pass
            line = await stream.content.readline()
    assert orjson.loads(line[6:])["id"] == record["id"]


async def test_with_a_token_nothing_but_health_answers_without_it(start_worker: Any) -> None:
    worker = start_worker(LOGMONITOR_AUTH_TOKEN="s3cret-token")
    worker.wait_healthy()
    for path in [*ROUTES, "/static/dashboard.js", "/static/groups.js"]:
        status, headers, body = await fetch(worker.url + path)
        assert status == 401, path
        assert orjson.loads(body)["error"] == "unauthorized"
        assert (await fetch(worker.url + path, method="POST"))[0] in (401, 405), path
        assert (await fetch(worker.url + path, headers={"Authorization": "Bearer wrong"}))[0] == 401
    assert (await fetch(worker.url + "/api/v1/health"))[0] == 200
    bearer = {"Authorization": "Bearer s3cret-token"}
    basic = {"Authorization": "Basic " + base64.b64encode(b"grafana:s3cret-token").decode()}
    for headers in (bearer, basic):
        assert (await fetch(worker.url + "/api/v1/logs/stats", headers=headers))[0] == 200


async def test_cors_preflight_is_answered_only_when_enabled(start_worker: Any) -> None:
    preflight = {"Origin": "https://grafana.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    enabled = start_worker(LOGMONITOR_CORS_ORIGINS="https://grafana.example")
    enabled.wait_healthy()
    status, headers, _body = await fetch(enabled.url + "/api/v1/logs/stats", method="OPTIONS", headers=preflight)
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "https://grafana.example"
    assert "POST" in headers["Access-Control-Allow-Methods"] and "PATCH" in headers["Access-Control-Allow-Methods"]
    other = {**preflight, "Origin": "https://evil.example"}
    _status, headers, _body = await fetch(enabled.url + "/api/v1/logs/stats", headers=other)
    assert "Access-Control-Allow-Origin" not in headers


def test_schema_driven_fuzzing_finds_no_server_error(fed_worker: Any, tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", fed_worker.url + "/api/v1/openapi.json",
        "--checks", "not_a_server_error", "--max-examples", "40", "--exclude-path", "/api/v1/logs/stream",
        "--exclude-path", "/api/v1/logs/tail",
        "--request-timeout", "10", "--seed", "1", "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
