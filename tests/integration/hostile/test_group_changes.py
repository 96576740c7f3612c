"""A PATCH answers the truth, and the default rules report a group that comes back (issue 26 items 7 and 10).

Against a real worker with the packaged default rules: the command topic refuses the command
outright (``max.message.bytes`` below any batch), so the PATCH answers 503 with a fixed message
and nothing changes; once it accepts, the change is applied, the same PATCH sent again is
harmless, and the group's next event raises the default regression alert. (A command Kafka has
not acknowledged in time is 202 pending and may still land: tests/unit/test_status_change_send.py,
as a single broker cannot be made to hold a write back without refusing it.)
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from logmonitor.server.topic_admin import MAX_MESSAGE_BYTES, set_topic_config
from logmonitor.settings import Settings
from tests.fixtures.receivers import wait_until
from tests.fixtures.traffic import keyed, log_record, produce
from tests.fixtures.worker import WorkerProcess, running_worker

SERVICE = "pending-change"


@pytest.fixture(scope="module")
def worker(kafka_broker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    """A worker with the packaged default rules, evaluated twice a second."""
    with running_worker(kafka_broker.bootstrap_servers, tmp_path_factory.mktemp("group-changes"), "lm-changes",
                        LOGMONITOR_ALERT_INTERVAL="500ms") as started:
        yield started


def patch(worker: WorkerProcess, group: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{worker.url}/api/v1/logs/groups/{group}", data=orjson.dumps(body),
                                     method="PATCH", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def crash(n: int) -> dict[str, Any]:
    return log_record(SERVICE, "ERROR", f"call {n} timed out",
                      exception={"type": "TimeoutError", "message": f"call {n} timed out",
                                 "stacktrace": 'File "app.py", line 9, in pay'})


async def test_a_refused_change_is_a_503_that_changed_nothing_and_a_repeated_change_is_harmless(
        worker: WorkerProcess) -> None:
    bootstrap, logs = worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"]
    await produce(bootstrap, logs, keyed([crash(1)]))
    group = wait_until(lambda: worker.get_json("/api/v1/logs/groups", service=SERVICE)["groups"], 60,
                       "the group")[0]["id"]
    settings, commands = Settings.from_env(worker.env), worker.env["LOGMONITOR_TOPIC_COMMANDS"]
    await set_topic_config(settings, commands, {"max.message.bytes": "64"})  # below any batch: refused outright
    try:
        status, answer = patch(worker, group, {"status": "resolved"})
    finally:
        await set_topic_config(settings, commands, {"max.message.bytes": str(MAX_MESSAGE_BYTES)})
    assert status == 503 and answer["error"] == "kafka_unavailable", answer
    assert commands not in answer["detail"] and "Error" not in answer["detail"] and "request id" in answer["detail"]
    assert worker.get_json(f"/api/v1/logs/groups/{group}")["history"] == [], "the answer was true: nothing changed"

    status, resolved = patch(worker, group, {"status": "resolved"})
    assert status == 200 and resolved["status"] == "resolved", resolved
    status, again = patch(worker, group, {"status": "resolved"})
    assert status == 200 and [entry["to"] for entry in again["history"]] == ["resolved"], "the repeat changed nothing"

    await produce(bootstrap, logs, keyed([crash(2)]))
    alerts = wait_until(lambda: worker.get_json("/api/v1/alerts", rule="regressed-group")["alerts"], 60,
                        "the default regression rule's alert")
    assert alerts[0]["service"] == SERVICE and alerts[0]["example"]["id"] == group
    assert worker.get_json(f"/api/v1/logs/groups/{group}")["status"] == "regressed"
