"""Two workers of one app with a token, over loopback HTTP (issue 26 items 4 and 6).

Peers are asked with a credential derived from the token (never the token), and a peer that
does not answer is a 503 with a fixed message and a request id; its address and the error go
to the log.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from logmonitor.peer_credential import HEADER, peer_credential, peer_key
from tests.fixtures.raw_http import raw_request
from tests.fixtures.receivers import wait_until
from tests.fixtures.traffic import keyed, log_record, produce
from tests.fixtures.worker import WorkerProcess, stop_all, worker_env

TOKEN = "peers-token-0123456789"
SERVICES = [f"peer-svc-{n}" for n in range(16)]  # spread over the 4 partitions, so over both workers
BEARER = [(b"Authorization", b"Bearer " + TOKEN.encode())]


@pytest.fixture(scope="module")
def pair(kafka_broker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WorkerProcess, ...]]:
    """Two healthy workers of one app, each owning some partitions, with one error of each service counted."""
    directory = tmp_path_factory.mktemp("peers")
    app_id = f"lm-peers-{uuid.uuid4().hex[:8]}"
    workers = [WorkerProcess(worker_env(kafka_broker.bootstrap_servers, app_id, directory / f"data-{n}",
                                        LOGMONITOR_AUTH_TOKEN=TOKEN), directory / f"worker-{n}.log")
               for n in range(2)]
    try:
        for worker in workers:
            worker.start()
            worker.wait_healthy()
        yield tuple(workers)
    finally:
        stop_all(workers, __name__)


def total_errors(worker: WorkerProcess) -> int:
    return int(worker.get_json("/api/v1/logs/stats")["total_errors"])


async def test_each_worker_answers_completely_asking_its_peer_with_a_derived_credential(
        pair: tuple[WorkerProcess, ...]) -> None:
    first = pair[0]
    await produce(first.env["KAFKA_BOOTSTRAP_SERVERS"], first.env["LOGMONITOR_TOPIC_LOGS"],
                  keyed([log_record(service, "ERROR", "peer test") for service in SERVICES]))
    for worker in pair:
        wait_until(lambda w=worker: total_errors(w) == len(SERVICES), 90, "every error counted, from either worker")
    own = [len(worker.get_json("/api/v1/internal/partial/summary")["profiles"]) for worker in pair]
    assert all(own) and sum(own) == len(SERVICES), f"each worker owns some services {own}: the answers merged both"


def test_the_internal_routes_take_a_peer_credential_or_the_token_and_nothing_else(
        pair: tuple[WorkerProcess, ...]) -> None:
    worker, key = pair[0], peer_key(TOKEN)
    target = "/api/v1/internal/partial/summary"
    now = time.time()
    assert raw_request(worker.url, "GET", target, [(HEADER.encode(), peer_credential(key, "GET", target, now)
                                                    .encode())]).status == 200
    assert raw_request(worker.url, "GET", target, BEARER).status == 200, "callers with the token too"
    forgeries = (peer_credential(peer_key("guess"), "GET", target, now), peer_credential(key, "GET", target, now - 120),
                 peer_credential(key, "GET", "/api/v1/internal/partial/errors", now), "0.0", TOKEN)
    for forged in forgeries:
        answer = raw_request(worker.url, "GET", target, [(HEADER.encode(), forged.encode())])
        assert answer.status == 401, forged
    assert raw_request(worker.url, "GET", "/api/v1/logs/stats",
                       [(HEADER.encode(), peer_credential(key, "GET", "/api/v1/logs/stats", now).encode())]
                       ).status == 401, "a peer credential opens only what peers ask each other"


def test_a_peer_that_does_not_answer_is_a_503_with_a_fixed_message_and_a_request_id(
        pair: tuple[WorkerProcess, ...]) -> None:
    first, second = pair
    peer_port = second.env["LOG_MONITOR_SERVER_PORT"]
    assert second.process is not None
    second.process.send_signal(signal.SIGSTOP)  # in the group still, and silent: the fan-out waits out its 5 s
    try:
        answer = raw_request(first.url, "GET", f"/api/v1/logs/errors?q={uuid.uuid4().hex}", BEARER)
    finally:
        second.process.send_signal(signal.SIGCONT)
    assert answer.status == 503, answer
    body, identifier = answer.json(), answer.headers["x-request-id"]
    assert isinstance(body, dict) and body["error"] == "peer_unavailable" and identifier in body["detail"]
    assert peer_port not in body["detail"] and "127.0.0.1" not in body["detail"], "no internal address"
    logged = [line for line in first.log_text().splitlines() if identifier in line]
    assert logged and peer_port in logged[0], "the details are in the log, under the request id"
