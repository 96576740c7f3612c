"""Issue 17, items 8 and 9 against real workers: the live feed that dies, and what is open by default."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import TopicAlreadyExistsError
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from logmonitor.dev.localkafka import LocalKafka
from logmonitor.web.live_errors import errors_in
from logmonitor.web.live_feed import LIVE, RECONNECTING, Item, LiveFeed
from tests.fixtures.receivers import WebhookReceiver, wait_until
from tests.fixtures.sse import Event, events_until, next_event, status
from tests.fixtures.traffic import create_topic, delete_topic, keyed, log_record, produce
from tests.fixtures.worker import WorkerProcess, running_worker, worker_env

pytestmark = pytest.mark.integration

TOKEN = "feed-and-defaults-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


@pytest.fixture(scope="module")
def guarded(kafka_broker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    """A worker with a token and room for two live-feed clients."""
    with running_worker(kafka_broker.bootstrap_servers, tmp_path_factory.mktemp("guarded-worker"), "lm-guarded",
                        LOGMONITOR_AUTH_TOKEN=TOKEN, LOGMONITOR_SSE_MAX_CLIENTS="2") as worker:
        yield worker


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client with no read timeout (streams are long)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)) as client:
        yield client


async def shown(browser: Any, element: str, text: str, timeout: float) -> None:
    """Wait until the dashboard's ``element`` contains ``text``."""
    def shows(driver: Any) -> bool:
        return text in driver.find_element(By.ID, element).text
    await asyncio.to_thread(WebDriverWait(browser, timeout, poll_frequency=0.2).until, shows)


async def dashboard_says(browser: Any, word: str, timeout: float) -> None:
    """Wait until the dashboard's connection status contains ``word``."""
    await shown(browser, "connection", word, timeout)


async def recreate(bootstrap: str, topic: str, partitions: int) -> None:
    """Create ``topic`` again once the broker has finished deleting it."""
    async with asyncio.timeout(60):
        while True:
            try:
                return await create_topic(bootstrap, topic, partitions)
            except TopicAlreadyExistsError:
                await asyncio.sleep(0.5)


async def test_a_lost_feed_ends_its_streams_says_reconnecting_and_comes_back(
        start_worker: Any, browser: Any, session: aiohttp.ClientSession) -> None:
    worker = start_worker()
    worker.wait_healthy()
    bootstrap, errors = worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_ERRORS"]
    stream_url = worker.url + "/api/v1/logs/stream"
    browser.get(worker.url + "/")
    await dashboard_says(browser, "live", 30)
    async with session.get(stream_url) as stream:
        await events_until(stream, status("live"), 30)
        await delete_topic(bootstrap, errors)
        ending: list[Event] = []
        async with asyncio.timeout(60):
            while (event := await next_event(stream)) is not None:
                ending.append(event)
        assert ending == [("status", "reconnecting")], "told why, then the stream ends so the client reconnects"
    await dashboard_says(browser, "reconnecting", 30)

    async with session.get(stream_url) as waiting:
        assert await next_event(waiting) == ("status", "reconnecting"), "a stream opened meanwhile waits"
        await recreate(bootstrap, errors, int(worker.env["LOGMONITOR_PARTITIONS"]))
        await events_until(waiting, status("live"), 90)
        record = log_record("booking", "ERROR", f"after the outage {uuid.uuid4().hex[:8]}")
        await produce(bootstrap, worker.env["LOGMONITOR_TOPIC_LOGS"], keyed([record]))
        seen = await events_until(waiting, lambda event: event[0] == "error", 60)
        assert orjson.loads(seen[-1][1])["id"] == record["id"]
    await dashboard_says(browser, "live", 60)
    await shown(browser, "feed", record["message"], 30)


async def test_the_feed_reconnects_after_its_broker_was_stopped_and_started(restartable_broker: LocalKafka) -> None:
    bootstrap, topic = restartable_broker.bootstrap_servers, f"feed-{uuid.uuid4().hex[:8]}"
    await create_topic(bootstrap, topic, 2)
    feed = LiveFeed("errors", topic, lambda: AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                                              auto_offset_reset="latest", fetch_max_wait_ms=100),
                    errors_in, 10)
    async with feed.subscribe() as subscription:
        async def next_item() -> Item:
            return await asyncio.wait_for(subscription.get(), 90)
        assert await next_item() == LIVE
        await asyncio.to_thread(restartable_broker.stop)
        assert await next_item() == RECONNECTING, "a stopped broker is noticed, though aiokafka never raises"
        await asyncio.to_thread(restartable_broker.start)
    async with feed.subscribe() as subscription:  # as the client that was told to reconnect
        assert subscription.state == LIVE or await next_item() == LIVE
        await produce(bootstrap, topic, [(b"k", b'{"after": "restart"}')])
        assert await next_item() == b'{"after":"restart"}'


async def test_beyond_the_cap_a_stream_gets_503_with_a_json_error(
        guarded: WorkerProcess, session: aiohttp.ClientSession) -> None:
    url = guarded.url + "/api/v1/logs/stream"
    async with session.get(url, headers=AUTH) as first, session.get(url, headers=AUTH) as second:
        for stream in (first, second):
            assert stream.status == 200 and (await next_event(stream) or ("", ""))[0] == "status"
        async with session.get(url, headers=AUTH) as third:
            assert third.status == 503 and third.headers["Retry-After"].isdigit()
            assert third.content_type == "application/json"
            assert (await third.json())["error"] == "too_many_streams"


async def stream_when_a_place_is_free(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientResponse:
    """A live-feed stream, retrying while every place is taken (30 s at most)."""
    async with asyncio.timeout(30):
        while (stream := await session.get(url, headers=AUTH)).status == 503:
            stream.release()
            await asyncio.sleep(0.3)
    assert stream.status == 200
    return stream


async def test_a_client_that_leaves_is_no_error_and_frees_its_place(guarded: WorkerProcess) -> None:
    url, env = guarded.url + "/api/v1/logs/stream", guarded.env
    logged_before = len(guarded.log_text())
    async with aiohttp.ClientSession() as client:
        watcher = await stream_when_a_place_is_free(client, url)
        await events_until(watcher, status("live"), 30)
        for round_ in range(3):  # the second place is taken and given back each round
            leaving = await stream_when_a_place_is_free(client, url)
            assert await next_event(leaving) is not None
            leaving.close()  # drops the connection, as a closed browser tab does
            message = f"written to a client that left {round_}"
            await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"],
                          keyed([log_record("booking", "ERROR", message)]))
            await events_until(watcher, lambda event, message=message: message in event[1], 30)
        watcher.close()
    log = guarded.log_text()[logged_before:]
    assert "Traceback" not in log and "[ERROR]" not in log, log[-3000:]


def test_a_network_bind_without_a_token_refuses_to_start(start_worker: Any) -> None:
    worker = start_worker(LOG_MONITOR_SERVER_HOST="0.0.0.0")
    assert worker.process is not None
    assert worker.process.wait(timeout=60) != 0
    output = worker.log_text().strip()
    assert output.startswith("logmonitor: LOG_MONITOR_SERVER_HOST=0.0.0.0") and len(output.splitlines()) == 1, output
    assert "LOGMONITOR_AUTH_TOKEN" in output and "LOGMONITOR_ALLOW_ANONYMOUS=true" in output
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(worker.env["LOG_MONITOR_SERVER_PORT"]))) != 0, "nothing listens"


@pytest.mark.parametrize("command", [["faust", "-A", "logmonitor.server.faust_app", "worker"],
                                     ["logmonitor", "-l", "info", "worker"]],
                         ids=["faust-entry", "option-before-command"])
def test_every_way_to_the_web_server_refuses_a_network_bind_without_a_token(
        kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path, command: list[str]) -> None:
    env = worker_env(kafka_bootstrap, unique_name("lm-bind"), tmp_path / "data", LOG_MONITOR_SERVER_HOST="0.0.0.0")
    done = subprocess.run([sys.executable, "-m", *command], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert any(line.startswith("logmonitor: LOG_MONITOR_SERVER_HOST=0.0.0.0") for line in output.splitlines()), output
    assert "Traceback" not in output, output[-3000:]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(env["LOG_MONITOR_SERVER_PORT"]))) != 0, "nothing listens"


async def test_every_response_carries_the_security_headers(
        guarded: WorkerProcess, session: aiohttp.ClientSession) -> None:
    base = guarded.url
    too_big = b"{" + b" " * (1024 * 1024) + b"}"  # aiohttp's client_max_size is 1 MiB
    requests: list[tuple[str, str, dict[str, str], bytes | None, int]] = [
        ("GET", "/api/v1/logs/stats", AUTH, None, 200),
        ("GET", "/", AUTH, None, 200),
        ("GET", "/api/v1/logs/stats", {}, None, 401),
        ("GET", "/no/such/page", AUTH, None, 404),
        ("DELETE", "/api/v1/logs/stats", AUTH, None, 405),
        ("POST", "/api/v1/grafana/query", {**AUTH, "Content-Type": "application/json"}, too_big, 413),
    ]
    for method, path, headers, body, expected in requests:
        async with session.request(method, base + path, headers=headers, data=body) as response:
            assert response.status == expected, (method, path, response.status)
            for name, value in SECURITY_HEADERS.items():
                assert response.headers.get(name) == value, (method, path, name)
            policy = response.headers.get("Content-Security-Policy", "")
            assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, (method, path)
            if response.content_type == "application/json":
                assert response.headers.get("Cache-Control") == "no-store", (method, path)
            if expected >= 400:
                error = await response.json()
                assert set(error) == {"error", "detail"} and error["detail"], (method, path, error)
    async with session.get(base + "/api/v1/logs/stream", headers=AUTH) as stream:
        assert all(stream.headers.get(name) == value for name, value in SECURITY_HEADERS.items())


async def test_a_notifier_that_fails_is_logged_by_scheme_and_host_only(
        start_worker: Any, tmp_path: Path, webhook_receiver: WebhookReceiver) -> None:
    secret = f"T0/B0/{uuid.uuid4().hex}"
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))  # bound but not listening: connections to it are refused
    port = refused.getsockname()[1]
    webhook_receiver.hook(f"/services/{secret}", fail_first=1000)
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"""
notifiers:
  hook: {{type: webhook, url: "{webhook_receiver.url}/services/{secret}"}}
  chat: {{type: slack, url: "http://127.0.0.1:{port}/services/{secret}?token=x"}}
retries: {{attempts: 2, backoff: 200ms, max_backoff: 200ms}}
rules:
  - {{name: critical, kind: critical, cooldown: 1m, notify: [hook, chat]}}
""")
    try:
        worker = start_worker(LOGMONITOR_ALERT_RULES=str(rules), LOGMONITOR_ALERT_INTERVAL="500ms")
        worker.wait_healthy()
        await produce(worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"],
                      keyed([log_record("payments", "CRITICAL", "card processor down")]))
        wait_until(lambda: "not delivered by hook" in (text := worker.log_text())
                   and "not delivered by chat" in text, 60, "both deliveries to fail")
    finally:
        refused.close()
    log = worker.log_text()
    assert f"hook: {webhook_receiver.url} answered 500" in log
    assert f"chat: http://127.0.0.1:{port}: cannot connect" in log
    assert secret not in log and "/services/" not in log and "token=x" not in log
