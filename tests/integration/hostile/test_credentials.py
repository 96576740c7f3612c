"""Credentials as a hostile client sends them (issue 26 items 4 and 5, DESIGN section 6).

Against a real worker and a real ingest server, both with a token, over loopback HTTP with the
exact header bytes: a malformed ``Authorization`` header is a 401 in the JSON error shape, never
a 500 with a trace.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.ingest import IngestProcess, running_ingest, worker_ingest_env
from tests.fixtures.raw_http import raw_request
from tests.fixtures.worker import WorkerProcess, running_worker

TOKEN = "hostile-credentials-token"

MALFORMED = [
    b"Basic \xc3\xbc",  # non-ASCII (UTF-8) where base64 belongs
    b"Basic \xfc",  # the same as Latin-1: not even UTF-8
    b"Basic " + base64.b64encode(b"grafana:\xff\xfe"),  # a password that is not UTF-8
    b"Bearer " + TOKEN.encode() + b"\xff",  # the token and a byte that is not UTF-8
    b"Bearer \xff\xfe\xfd",
    b"Bearer \xc3\xbc" + TOKEN.encode(),
    b"Basic",
    b"\xff",
]


@pytest.fixture(scope="module")
def worker(kafka_broker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    directory = tmp_path_factory.mktemp("credentials")
    with running_worker(kafka_broker.bootstrap_servers, directory, "lm-credentials",
                        LOGMONITOR_AUTH_TOKEN=TOKEN) as started:
        yield started


@pytest.fixture(scope="module")
def ingest(worker: WorkerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestProcess]:
    with running_ingest(worker_ingest_env(worker, LOGMONITOR_INGEST_TOKEN=TOKEN),
                        tmp_path_factory.mktemp("credentials-ingest") / "ingest.log") as server:
        yield server


@pytest.mark.parametrize("header", MALFORMED, ids=repr)
def test_a_malformed_authorization_header_is_a_401_on_the_worker(worker: WorkerProcess, header: bytes) -> None:
    answer = raw_request(worker.url, "GET", "/api/v1/logs/stats", [(b"Authorization", header)])
    assert answer.status == 401, answer
    assert answer.json() == {"error": "unauthorized", "detail": "send Authorization: Bearer <token> or basic auth"}
    assert b"Traceback" not in answer.body


@pytest.mark.parametrize("header", MALFORMED, ids=repr)
def test_a_malformed_authorization_header_is_a_401_on_the_ingest_server(ingest: IngestProcess, header: bytes
                                                                         ) -> None:
    answer = raw_request(ingest.url, "POST", "/api/v1/ingest",
                         [(b"Authorization", header), (b"Content-Type", b"application/x-ndjson")], b"{}\n")
    assert answer.status == 401, answer
    body = answer.json()
    assert isinstance(body, dict) and body["error"] == "unauthorized" and b"Traceback" not in answer.body


def test_neither_server_logged_a_failure_and_the_token_still_works(worker: WorkerProcess, ingest: IngestProcess
                                                                   ) -> None:
    for url, path in ((worker.url, "/api/v1/logs/stats"), (ingest.url, "/metrics")):
        ok = raw_request(url, "GET", path, [(b"Authorization", b"Bearer " + TOKEN.encode())])
        assert ok.status == 200, (url, ok)
    assert "unhandled error" not in worker.log_text() + ingest.log_text()
    assert "Traceback" not in ingest.log_text()
