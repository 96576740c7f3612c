"""Error triage against the real broker: status changes through Kafka, regressions, ignores, escalation, kills."""

from __future__ import annotations

import asyncio
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest

from logmonitor.timestamps import iso_timestamp
from tests.fixtures.receivers import WebhookReceiver, wait_until
from tests.fixtures.traffic import keyed, log_record, produce

pytestmark = pytest.mark.integration

TOKEN, LABEL = "triage-token-0123456789", "oncall-bot"


def crash(service: str, n: int = 0, **fields: Any) -> dict[str, Any]:
    """An error of the one bug of ``service`` (its number ``n`` is masked out of the group)."""
    exception = {"type": "TimeoutError", "message": f"call {n} timed out",
                 "stacktrace": 'File "app.py", line 9, in pay'}
    return log_record(service, "ERROR", f"call {n} timed out", exception=exception, **fields)


def send(worker: Any, method: str, path: str, body: bytes | None = None,
         token: str | None = None) -> tuple[int, Any]:
    """One request; the status and the decoded JSON answer (also for 4xx)."""
    request = urllib.request.Request(worker.url + path, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def set_status(worker: Any, group: str, status: str, token: str | None = None, **extra: Any) -> dict[str, Any]:
    """PATCH the group's status; assert the owner applied it (200); the group as answered."""
    code, answer = send(worker, "PATCH", f"/api/v1/logs/groups/{group}",
                        orjson.dumps({"status": status, **extra}), token)
    assert code == 200, answer
    return answer  # type: ignore[no-any-return]


def groups_of(worker: Any, **params: Any) -> list[dict[str, Any]]:
    return worker.get_json("/api/v1/logs/groups", limit=1000, **params)["groups"]  # type: ignore[no-any-return]


def the_group(worker: Any, service: str, count: int) -> dict[str, Any]:
    """The one group of ``service`` once it counts ``count`` events."""
    return wait_until(lambda: next((g for g in groups_of(worker, service=service) if g["count"] == count), None),
                      60, f"the group of {service} to count {count}")


def rules_file(tmp_path: Path, url: str, rules: str) -> str:
    path = tmp_path / "rules.yaml"
    path.write_text(f'notifiers:\n  hook: {{type: webhook, url: "{url}/hook"}}\nrules:\n{rules}')
    return str(path)


def alerts(receiver: WebhookReceiver, rule: str) -> list[dict[str, Any]]:
    return [body for body in receiver.bodies("/hook") if body["rule"] == rule and body["status"] == "firing"]


async def test_a_status_change_through_one_worker_is_visible_on_the_other_at_once(start_worker: Any) -> None:
    first = start_worker()
    first.wait_healthy()
    shared = {k: v for k, v in first.env.items() if k.startswith("LOGMONITOR_TOPIC") or k == "LOGMONITOR_APP_ID"}
    second = start_worker(**shared)
    second.wait_healthy()
    services = [f"svc-{n}" for n in range(8)]  # spread over the 4 partitions, so over both workers
    await produce(first.env["KAFKA_BOOTSTRAP_SERVERS"], first.env["LOGMONITOR_TOPIC_LOGS"],
                  keyed([crash(service) for service in services]))
    wait_until(lambda: len(groups_of(second)) == len(services), 60, "a group per service")
    listed = groups_of(first)
    assert listed == groups_of(second)
    assert {group["status"] for group in listed} == {"new"} and all(g["statuses"] == ["unresolved", "new"]
                                                                    for g in listed)
    assert all(group["sparkline"][-1] == 1 and len(group["sparkline"]) == 24 for group in listed)

    for index, group in enumerate(listed):
        changed_on, seen_on = (first, second) if index % 2 else (second, first)
        answer = set_status(changed_on, group["id"], "resolved")
        assert answer["status"] == "resolved" and answer["history"][-1]["who"] == "anonymous"
        shown = seen_on.get_json(f"/api/v1/logs/groups/{group['id']}")
        assert shown["status"] == "resolved", "the other worker answers the same at once"
        assert [entry["to"] for entry in shown["history"]] == ["resolved"]
    assert groups_of(first, status="resolved") == groups_of(second, status="resolved")
    assert len(groups_of(second, status="resolved")) == len(services)
    assert groups_of(second, status="unresolved") == []
    totals = second.get_json("/api/v1/logs/groups")
    assert totals["by_status"]["resolved"] == len(services) and totals["total"] == len(services)

    await produce(first.env["KAFKA_BOOTSTRAP_SERVERS"], first.env["LOGMONITOR_TOPIC_LOGS"],
                  keyed([crash(services[0], 1)]))
    regressed = wait_until(lambda: groups_of(second, status="regressed"), 60, "the group to regress")
    assert [group["service"] for group in regressed] == [services[0]]
    assert groups_of(first, status="regressed") == regressed


async def test_regression_and_ignore_until_ten_alert_once_each_and_patch_needs_the_token(
    start_worker: Any, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    rules = rules_file(tmp_path, webhook_receiver.url, "  - {name: back, kind: regression, cooldown: 1s}\n")
    worker = start_worker(LOGMONITOR_ALERT_RULES=rules, LOGMONITOR_ALERT_INTERVAL="500ms",
                          LOGMONITOR_AUTH_TOKEN=TOKEN, LOGMONITOR_AUTH_TOKEN_LABEL=LABEL)
    worker.wait_healthy()
    bootstrap, logs = worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"]
    await produce(bootstrap, logs, keyed([crash("pay")]))
    group = the_group(worker, "pay", 1)["id"]
    path = f"/api/v1/logs/groups/{group}"

    assert send(worker, "PATCH", path, b'{"status": "resolved"}')[0] == 401, "no token, no change"
    assert send(worker, "PATCH", path, b'{"status": "resolved"}', token="wrong")[0] == 401
    for body, code in [(b"not json", "bad_body"), (b"[]", "bad_body"), (b'{"status": "resolved", "x": 1}', "bad_body"),
                       (b'{"status": "new"}', "bad_status"), (b'{"status": "gone"}', "bad_status"),
                       (b'{"status": "resolved", "ignore": {}}', "bad_ignore"),
                       (b'{"status": "ignored", "ignore": {"count": 0}}', "bad_ignore"),
                       (b'{"status": "ignored", "ignore": {"until": "2001-01-01T00:00:00Z"}}', "bad_ignore"),
                       (b'{"status": "ignored", "ignore": {"count": 1, "until": "2999-01-01"}}', "bad_ignore"),
                       (b" " * 5000, "bad_body")]:
        status, answer = send(worker, "PATCH", path, body, token=TOKEN)
        assert (status, answer["error"]) == (400, code), (body[:60], answer)
    assert send(worker, "PATCH", "/api/v1/logs/groups/bm9wZR9ub3Bl", b'{"status": "resolved"}', TOKEN)[0] == 404
    assert send(worker, "PATCH", "/api/v1/logs/groups/%2A%2A", b'{"status": "resolved"}', TOKEN)[0] == 404
    assert worker.get_json(path)["history"] == [], "refused changes change nothing"

    resolved = set_status(worker, group, "resolved", TOKEN)
    assert resolved["status"] == "resolved" and resolved["history"][-1]["who"] == LABEL
    await produce(bootstrap, logs, keyed([crash("pay", 2)]))
    wait_until(lambda: alerts(webhook_receiver, "back"), 60, "the regression alert")
    assert worker.get_json(path)["status"] == "regressed"
    await asyncio.sleep(3)  # six more evaluations: none may send the same reopening again
    (alert,) = alerts(webhook_receiver, "back")
    assert alert["service"] == "pay" and alert["count"] == 1 and alert["example"]["id"] == group

    ignored = set_status(worker, group, "ignored", TOKEN, ignore={"count": 10})
    assert ignored["status"] == "ignored" and ignored["ignore"] == {"count": 10, "seen": 0}
    await produce(bootstrap, logs, keyed([crash("pay", n) for n in range(3, 12)]))
    the_group(worker, "pay", 11)
    await asyncio.sleep(2)
    assert worker.get_json(path)["status"] == "ignored" and len(alerts(webhook_receiver, "back")) == 1, "9 of 10"
    await produce(bootstrap, logs, keyed([crash("pay", 12)]))
    wait_until(lambda: len(alerts(webhook_receiver, "back")) == 2, 60, "the alert after the 10th event")
    shown = worker.get_json(path)
    assert shown["statuses"] == ["unresolved", "new"] and shown["history"][-1]["why"] == "ignore_count"
    assert [entry["to"] for entry in shown["history"]] == ["resolved", "unresolved", "ignored", "unresolved"]
    assert sum(shown["sparkline"]) == 12 and sum(bucket["count"] for bucket in shown["daily"]) == 12
    assert {event["fingerprint"] for event in shown["events"]} == {shown["fingerprint"]} and len(shown["events"]) == 12
    assert shown["hosts"] == ["pay-1"]


def status_back(worker: Any, group: str, status: str, what: str) -> dict[str, Any]:
    """The group once it shows ``status`` again; failing, with the group as shown and the worker's log."""
    try:
        return wait_until(lambda: (g := worker.get_json(f"/api/v1/logs/groups/{group}"))["status"] == status and g,
                          60, what)
    except AssertionError as error:
        shown = worker.get_json(f"/api/v1/logs/groups/{group}")
        raise AssertionError(f"{error}; the group shows {shown}\n{worker.log_tail(120)}") from None


async def test_the_state_survives_a_sigkill_right_after_a_change(start_worker: Any) -> None:
    worker = start_worker()
    worker.wait_healthy()
    bootstrap, logs = worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"]
    await produce(bootstrap, logs, keyed([crash("booking")]))
    group = the_group(worker, "booking", 1)["id"]
    set_status(worker, group, "resolved")
    worker.kill(signal.SIGKILL)  # the changelog write and the command's commit may not have happened yet
    worker.start()
    worker.wait_healthy()  # an uncommitted command is read again after this: its state comes back within moments
    shown = status_back(worker, group, "resolved", "the resolve to be applied again")
    assert [entry["why"] for entry in shown["history"]] == ["request"], "applied once"

    await produce(bootstrap, logs, keyed([crash("booking", 1)]))
    wait_until(lambda: worker.get_json(f"/api/v1/logs/groups/{group}")["status"] == "regressed", 60, "regressed")
    worker.kill(signal.SIGKILL)
    worker.start()
    worker.wait_healthy()
    shown = status_back(worker, group, "regressed", "the regression to be applied again")
    assert shown["count"] == 2 and sum(shown["sparkline"]) == 2
    assert [entry["why"] for entry in shown["history"]] == ["request", "regression"]


async def test_escalation_fires_on_a_spike_and_not_on_a_steady_rate(
    start_worker: Any, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    rules = rules_file(tmp_path, webhook_receiver.url,
                       "  - {name: spike, kind: escalating, factor: 5, min_volume: 20, cooldown: 1s}\n")
    worker = start_worker(LOGMONITOR_ALERT_RULES=rules, LOGMONITOR_ALERT_INTERVAL="500ms")
    worker.wait_healthy()
    now = time.time()
    hour = now - now % 3600

    def day_of(service: str, per_hour: int, now_count: int) -> list[dict[str, Any]]:
        """A day and a bit of ``per_hour`` errors an hour (event times in the past), then ``now_count`` now."""
        past = [crash(service, n, timestamp=iso_timestamp(hour - h * 3600 + 60 + n))
                for h in range(2, 27) for n in range(per_hour)]
        return past + [crash(service, n) for n in range(now_count)]

    records = day_of("steady", 30, 30) + day_of("spiky", 5, 100)
    await produce(worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"], keyed(records))
    the_group(worker, "spiky", 25 * 5 + 100)
    the_group(worker, "steady", 25 * 30 + 30)
    escalating = wait_until(lambda: groups_of(worker, status="escalating"), 30, "the spike to show")
    assert [group["service"] for group in escalating] == ["spiky"] and escalating[0]["last_hour"] == 100
    wait_until(lambda: alerts(webhook_receiver, "spike"), 60, "the escalating alert")
    await asyncio.sleep(3)
    assert [alert["service"] for alert in alerts(webhook_receiver, "spike")] == ["spiky"], "once, and not steady"
    by_trend = groups_of(worker, sort="trend")
    assert [group["service"] for group in by_trend] == ["spiky", "steady"]
    steady = next(group for group in by_trend if group["service"] == "steady")
    assert "escalating" not in steady["statuses"] and steady["last_hour"] == 30
