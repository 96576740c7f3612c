"""Alerting against the real broker, with a local webhook receiver and a local SMTP server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from logmonitor.timestamps import iso_timestamp
from tests.fixtures.receivers import SMTP_PASSWORD, SMTP_USER, SmtpServer, WebhookReceiver, wait_until
from tests.fixtures.traffic import keyed, log_record, produce, read_topic

pytestmark = pytest.mark.integration


def rules_file(tmp_path: Path, text: str) -> str:
    """Write a rules file; return its path."""
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return str(path)


def fired(bodies: list[dict[str, Any]], rule: str, status: str = "firing") -> list[dict[str, Any]]:
    """The alerts of ``rule`` with ``status`` among what a receiver got."""
    return [body for body in bodies if body["rule"] == rule and body["status"] == status]


def crash(service: str, message: str, level: str = "ERROR", function: str = "pay", **fields: Any) -> dict[str, Any]:
    """An error record with an exception raised in ``function``, so it forms an error group (one per function)."""
    exception = {"type": "ConnectionError", "message": message, "stacktrace": f'File "app.py", line 3, in {function}'}
    return log_record(service, level, message, exception=exception, **fields)


async def test_each_rule_fires_and_resolves_and_reaches_every_notifier(
    start_worker: Any, tmp_path: Path, webhook_receiver: WebhookReceiver, smtp_server: SmtpServer
) -> None:
    url = webhook_receiver.url
    rules = rules_file(tmp_path, f"""
notifiers:
  hook: {{type: webhook, url: "{url}/hook"}}
  chat: {{type: slack, url: "{url}/slack"}}
  mail: {{type: email, host: 127.0.0.1, port: {smtp_server.port}, security: starttls, username: {SMTP_USER},
          password: "${{TEST_SMTP_PASSWORD}}", from: logmonitor@example.com, to: [oncall@example.com],
          ca_file: "{smtp_server.ca_file}"}}
retries: {{attempts: 5, backoff: 200ms, max_backoff: 1s}}
rules:
  - {{name: critical, kind: critical, cooldown: 3s, services: ["pay*"]}}
  - {{name: error-rate, kind: error_rate, threshold: 5, window: 1m, cooldown: 1s, services: [booking]}}
  - {{name: new-error, kind: new_group, cooldown: 1s, services: [booking]}}
  - {{name: silent, kind: silence, after: 4s, cooldown: 1s, services: ["quiet*"], notify: [hook]}}
""")
    worker = start_worker(LOGMONITOR_ALERT_RULES=rules, LOGMONITOR_ALERT_INTERVAL="500ms",
                          TEST_SMTP_PASSWORD=SMTP_PASSWORD)
    worker.wait_healthy()
    env = worker.env
    bootstrap, logs = env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"]
    await produce(bootstrap, logs, keyed(
        [log_record("quiet-svc", "INFO", "hello"), crash("payments", "card processor down", "CRITICAL")]
        + [crash("booking", f"seat {n} lock timed out after 30s") for n in range(10)]
    ))

    try:
        hook = wait_until(lambda: (b := webhook_receiver.bodies("/hook")) and all(
            fired(b, rule) for rule in ("critical", "error-rate", "new-error", "silent")) and b,
            120, "every rule to fire")  # a bound, not a timing: a loaded CI machine took over 60 s once
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}; what fired: {webhook_receiver.bodies('/hook')}") from None
    critical = fired(hook, "critical")[0]
    assert critical["service"] == "payments" and critical["count"] == 1
    assert critical["example"]["message"] == "card processor down"
    assert fired(hook, "error-rate")[0]["value"] == 10 and fired(hook, "error-rate")[0]["service"] == "booking"
    new_error = fired(hook, "new-error")[0]
    assert new_error["count"] == 1 and new_error["example"]["exception_type"] == "ConnectionError"
    assert fired(hook, "silent")[0]["service"] == "quiet-svc" and fired(hook, "silent")[0]["value"] >= 4

    await produce(bootstrap, logs, keyed([log_record("quiet-svc", "INFO", "back")]))
    hook = wait_until(lambda: (b := webhook_receiver.bodies("/hook")) and all(
        fired(b, rule, "resolved") for rule in ("critical", "silent", "error-rate")) and b,
        90, "critical, silent and error-rate to resolve (error-rate when its minute is over)")
    assert not fired(hook, "new-error", "resolved"), "a new group is news, not an incident"

    shared = len([body for body in hook if body["rule"] != "silent"])
    slack = wait_until(lambda: len(b := webhook_receiver.bodies("/slack")) >= shared and b, 30, "the Slack messages")
    assert all(isinstance(body["text"], str) and body["blocks"] for body in slack)
    assert any("payments" in body["text"] and "CRITICAL" in body["text"] for body in slack)
    mails = wait_until(lambda: len(m := smtp_server.messages) >= shared and m, 30, "the emails")
    assert all(mail["To"] == "oncall@example.com" for mail in mails)
    assert any(mail["Subject"].startswith("[logmonitor] FIRING: 1 CRITICAL record in payments") for mail in mails)
    assert len(slack) == len(mails) == shared

    published = await read_topic(bootstrap, env["LOGMONITOR_TOPIC_ALERTS"], len(hook))
    assert {orjson.loads(record.value)["id"] for record in published} >= {body["id"] for body in hook}

    listed = worker.get_json("/api/v1/alerts")
    assert {alert["id"] for alert in listed["alerts"]} >= {body["id"] for body in hook}
    assert [a["at"] for a in listed["alerts"]] == sorted((a["at"] for a in listed["alerts"]), reverse=True)
    resolved = worker.get_json("/api/v1/alerts", status="resolved", service="payments")
    assert resolved["count"] == 1 and resolved["alerts"][0]["rule"] == "critical"
    latest: dict[tuple[str, str], str] = {}
    for alert in listed["alerts"]:  # newest first
        latest.setdefault((alert["rule"], alert["service"]), alert["status"])
    assert {(entry["rule"], entry["service"]) for entry in listed["active"]} == {
        subject for subject, status in latest.items() if status == "firing" and subject[0] != "new-error"}

    now = time.time()
    status, annotations = worker.post("/api/v1/grafana/annotations", {
        "range": {"from": iso_timestamp(now - 600), "to": iso_timestamp(now + 60)},
        "annotation": {"name": "alerts", "query": "alerts"}})
    assert status == 200 and {event["title"] for event in annotations} >= {body["title"] for body in hook}
    assert all("alert" in event["tags"] for event in annotations)


async def test_a_storm_gives_a_handful_of_notifications_that_count_every_record(
    start_worker: Any, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    rules = rules_file(tmp_path, f"""
notifiers:
  hook: {{type: webhook, url: "{webhook_receiver.url}/hook"}}
rules:
  - {{name: critical, kind: critical, cooldown: 2s}}
  - {{name: new-error, kind: new_group, cooldown: 2s}}
""")
    worker = start_worker(LOGMONITOR_ALERT_RULES=rules, LOGMONITOR_ALERT_INTERVAL="500ms")
    worker.wait_healthy()
    env = worker.env
    storm = [crash("checkout", f"order {n} failed: upstream 503", "CRITICAL") for n in range(10_000)]
    await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], keyed(storm))

    hook = wait_until(lambda: fired(b := webhook_receiver.bodies("/hook"), "critical", "resolved") and b,
                      120, "the storm to be over")
    firing = fired(hook, "critical")
    print(f"10,000 CRITICAL records -> {len(firing)} firing notifications, counts {[a['count'] for a in firing]}")
    assert sum(alert["count"] for alert in firing) == 10_000
    assert 1 <= len(firing) <= 10
    assert len(fired(hook, "critical", "resolved")) == 1
    assert len(fired(hook, "new-error")) == 1 and fired(hook, "new-error")[0]["count"] == 1, "one bug, one group"
    ring = worker.get_json("/api/v1/logs/errors/checkout", limit=1000)["errors"]
    assert sorted(int(error["message"].split()[1]) for error in ring) == list(range(9000, 10_000)), "the newest 1,000"


async def test_a_failing_receiver_is_retried_and_never_blocks_the_pipeline(
    start_worker: Any, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    url = webhook_receiver.url
    failing = webhook_receiver.hook("/down", fail_first=4, delay=2.0)
    rules = rules_file(tmp_path, f"""
notifiers:
  down: {{type: webhook, url: "{url}/down", timeout: 5}}
  up: {{type: webhook, url: "{url}/up"}}
retries: {{attempts: 6, backoff: 500ms, max_backoff: 2s}}
rules:
  - {{name: critical, kind: critical, cooldown: 1m}}
""")
    worker = start_worker(LOGMONITOR_ALERT_RULES=rules, LOGMONITOR_ALERT_INTERVAL="500ms")
    worker.wait_healthy()
    env = worker.env
    bootstrap, logs = env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"]
    logged = time.monotonic()
    await produce(bootstrap, logs, keyed([crash("payments", "ledger unreachable", "CRITICAL")]))

    delivered = wait_until(lambda: webhook_receiver.bodies("/up"), 30, "the working receiver's alert")
    print(f"CRITICAL record produced -> webhook delivered in {time.monotonic() - logged:.2f} s (interval 0.5 s)")
    assert failing.attempts <= 2 and not webhook_receiver.bodies("/down"), "the working receiver did not wait"
    await produce(bootstrap, logs, keyed([log_record("payments", "INFO", f"ok {n}") for n in range(2000)]))
    stats = wait_until(lambda: (s := worker.get_json("/api/v1/logs/stats"))["total_logs"] == 2001 and s,
                       30, "the pipeline to count records while a receiver fails")
    assert stats["total_logs"] == 2001 and not webhook_receiver.bodies("/down")

    retried = wait_until(lambda: webhook_receiver.bodies("/down"), 60, "the retried delivery")
    assert failing.attempts == 5 and [alert["id"] for alert in retried] == [delivered[0]["id"]]
    metrics = worker.get_text("/metrics")
    assert 'logmonitor_notifications_total{notifier="down",outcome="retried"} 4.0' in metrics
    assert 'logmonitor_notifications_total{notifier="down",outcome="sent"} 1.0' in metrics


async def test_groups_unseen_for_the_retention_are_removed_for_good(start_worker: Any) -> None:
    worker = start_worker(LOGMONITOR_GROUP_RETENTION="1h", LOGMONITOR_ALERT_INTERVAL="500ms")
    worker.wait_healthy()
    env = worker.env
    old = crash("legacy", "disk full", timestamp=iso_timestamp(time.time() - 2 * 3600))
    fresh = crash("legacy", "quota exceeded for tenant 7", function="reserve")  # another bug: another place
    await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], keyed([old, fresh]))

    wait_until(lambda: worker.get_json("/api/v1/logs/stats")["total_logs"] == 2, 30, "both records counted")
    groups = wait_until(lambda: len(g := worker.get_json("/api/v1/logs/groups")["groups"]) == 1 and g,
                        30, "the group last seen 2 h ago to be removed")
    assert groups[0]["title"].startswith("ConnectionError: quota exceeded")
    worker.restart()
    worker.wait_healthy()
    assert [g["title"] for g in worker.get_json("/api/v1/logs/groups")["groups"]] == [groups[0]["title"]]
    assert worker.get_json("/api/v1/logs/stats")["total_logs"] == 2, "counts are not affected"

