"""Requests a web page can make to a local logmonitor (issue 26 item 3), on both servers, without a token.

Against a real worker and ingest server on loopback: the issue's forged ``text/plain`` POST from
another site, DNS rebinding (a foreign ``Host``), cross-site requests without a preflight, and the
requests a page of their own (and a link from elsewhere) still makes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.fixtures.ingest import IngestProcess, running_ingest, worker_ingest_env
from tests.fixtures.raw_http import raw_request
from tests.fixtures.worker import WorkerProcess

EVIL = [(b"Origin", b"http://evil.example"), (b"Sec-Fetch-Site", b"cross-site"), (b"Sec-Fetch-Mode", b"no-cors")]
REBOUND = b"rebind.evil.example"


@pytest.fixture(scope="module")
def ingest(module_worker: WorkerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestProcess]:
    log_file = tmp_path_factory.mktemp("web-pages") / "ingest.log"
    with running_ingest(worker_ingest_env(module_worker), log_file) as server:
        yield server


def critical(message: str) -> bytes:
    return orjson.dumps({"id": uuid.uuid4().hex, "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                        "level": "CRITICAL", "service": "forged", "host": "h", "logger": "x", "message": message})


def test_a_forged_text_plain_post_from_another_site_is_refused_and_counts_nothing(
        ingest: IngestProcess, module_worker: WorkerProcess) -> None:
    forged = raw_request(ingest.url, "POST", "/api/v1/ingest", [(b"Content-Type", b"text/plain"), *EVIL],
                         critical("forged by a web page"))
    assert forged.status == 403 and forged.json() == {
        "error": "cross_site_request", "detail": forged.json()["detail"]}, forged  # type: ignore[index]
    plain = raw_request(ingest.url, "POST", "/api/v1/ingest", [(b"Content-Type", b"text/plain")], critical("plain"))
    assert plain.status == 415, "text/plain is what pages send without a preflight: no route takes it"
    honest = raw_request(ingest.url, "POST", "/api/v1/ingest", [(b"Content-Type", b"application/x-ndjson")],
                         critical("sent by a shipper"))
    assert honest.status == 200 and honest.json() == {"accepted": 1, "rejected": 0}
    module_worker.wait_counted(1)
    stats = module_worker.get_json("/api/v1/logs/stats")
    assert stats["total_logs"] == 1 and stats["by_service"] == {"forged": {"CRITICAL": 1}}, "only the shipper's"


@pytest.mark.parametrize(("server", "method", "path", "content_type"), [
    ("worker", "GET", "/api/v1/logs/stats", b""), ("worker", "GET", "/", b""),
    ("worker", "PATCH", "/api/v1/logs/groups/eA", b"application/json"),
    ("ingest", "POST", "/api/v1/ingest", b"application/x-ndjson"), ("ingest", "GET", "/metrics", b""),
])
def test_a_rebound_host_is_misdirected_on_both_servers(server: str, method: str, path: str, content_type: bytes,
                                                       request: pytest.FixtureRequest) -> None:
    url = (request.getfixturevalue("module_worker") if server == "worker" else request.getfixturevalue("ingest")).url
    answer = raw_request(url, method, path, [(b"Content-Type", content_type)], b"{}", host=REBOUND)
    assert answer.status == 421, answer
    assert answer.json() == {"error": "misdirected_request", "detail": answer.json()["detail"]}  # type: ignore[index]
    for name in (b"localhost", b"127.0.0.1"):
        port = url.rsplit(":", 1)[1].encode()
        assert raw_request(url, "GET", "/api/v1/health" if server == "worker" else "/health",
                           host=name + b":" + port).status == 200


def test_health_answers_whatever_the_host(module_worker: WorkerProcess, ingest: IngestProcess) -> None:
    assert raw_request(module_worker.url, "GET", "/api/v1/health", host=REBOUND).status == 200
    assert raw_request(ingest.url, "GET", "/health", host=REBOUND).status == 200
    assert raw_request(ingest.url, "GET", "/ready", host=REBOUND).status == 200


def test_the_worker_refuses_cross_site_requests_and_answers_its_own_pages(module_worker: Any) -> None:
    url, host = module_worker.url, module_worker.url.removeprefix("http://").encode()
    query = raw_request(url, "POST", "/api/v1/grafana/query", [(b"Content-Type", b"text/plain"), *EVIL], b"{}")
    assert query.status == 403, query
    assert raw_request(url, "PATCH", "/api/v1/logs/groups/eA", [(b"Content-Type", b"text/plain")], b"{}"
                       ).status == 415, "a PATCH takes JSON only"
    own = [(b"Origin", b"http://" + host), (b"Sec-Fetch-Site", b"same-origin"), (b"Sec-Fetch-Mode", b"cors")]
    assert raw_request(url, "GET", "/api/v1/logs/stats", own).status == 200, "the dashboard's own requests"
    link = [(b"Sec-Fetch-Site", b"cross-site"), (b"Sec-Fetch-Mode", b"navigate")]
    assert raw_request(url, "GET", "/", link).status == 200, "a link to the dashboard from an alert or a chat"
    assert raw_request(url, "GET", "/api/v1/logs/stats", EVIL).status == 403
