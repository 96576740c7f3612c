"""The worker boots: creates its topics as configured, health goes 503 then 200, clear startup errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from logmonitor.server.topic_admin import MAX_MESSAGE_BYTES
from tests.fixtures.ports import free_port
from tests.fixtures.traffic import alter_topics


def health(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url + "/api/v1/health", timeout=1) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


async def describe(bootstrap: str, topics: list[str]) -> dict[str, tuple[int, dict[str, str]]]:
    """Each topic's partition count and its retention/cleanup configuration."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        counts = {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics(topics)}
        answers = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in topics])
        configs = {
            resource[3]: {entry[0]: entry[1] for entry in resource[4]}
            for answer in answers for resource in answer.resources
        }
        return {topic: (counts[topic], configs[topic]) for topic in topics}
    finally:
        await admin.close()


def test_topics_are_created_with_partitions_and_retention_and_health_goes_503_then_200(start_worker: Any) -> None:
    worker = start_worker(LOGMONITOR_PARTITIONS="3", LOGMONITOR_LOGS_RETENTION="2h",
                          LOGMONITOR_ERRORS_RETENTION="5d", LOGMONITOR_DLQ_RETENTION="90m")
    seen: list[int] = []
    deadline = time.monotonic() + 120
    while (not seen or seen[-1] != 200) and time.monotonic() < deadline:
        status = health(worker.url)
        if status is not None and (not seen or seen[-1] != status):
            seen.append(status)
        time.sleep(0.01)
    assert seen[-1] == 200, worker.log_tail()
    assert seen[0] == 503, f"the web server answers before the worker consumes: {seen}"
    assert worker.get_json("/api/v1/health") == {"status": "ok", "state": "consuming"}

    env = worker.env
    app_id = env["LOGMONITOR_APP_ID"]
    expected = {
        env["LOGMONITOR_TOPIC_LOGS"]: str(2 * 3600 * 1000), env["LOGMONITOR_TOPIC_ERRORS"]: str(5 * 86400 * 1000),
        env["LOGMONITOR_TOPIC_DLQ"]: str(90 * 60 * 1000), f"{app_id}-alert-ticks": str(3600 * 1000),
        env["LOGMONITOR_TOPIC_COMMANDS"]: str(7 * 86400 * 1000),
    }
    changelog = f"{app_id}-log-counts-changelog"
    found = asyncio.run(describe(env["KAFKA_BOOTSTRAP_SERVERS"], [*expected, env["LOGMONITOR_TOPIC_ALERTS"],
                                                                   changelog]))
    for topic, retention in expected.items():
        partitions, config = found[topic]
        assert partitions == 3 and config["retention.ms"] == retention, topic
    assert found[changelog][0] == 3 and found[changelog][1]["cleanup.policy"] == "compact,delete"
    assert found[changelog][1]["max.message.bytes"] == str(MAX_MESSAGE_BYTES)


def test_changelogs_of_an_older_version_get_room_for_1_mib_records_and_keep_their_settings(
        start_worker: Any) -> None:
    worker = start_worker()
    worker.wait_healthy()
    worker.stop()
    bootstrap = worker.env["KAFKA_BOOTSTRAP_SERVERS"]
    changelog = f"{worker.env['LOGMONITOR_APP_ID']}-service-state-changelog"

    asyncio.run(alter_topics(bootstrap, [changelog], {"cleanup.policy": "compact"}))  # as an older version made it
    assert asyncio.run(describe(bootstrap, [changelog]))[changelog][1]["max.message.bytes"] != str(MAX_MESSAGE_BYTES)
    worker.restart()
    worker.wait_healthy()
    config = asyncio.run(describe(bootstrap, [changelog]))[changelog][1]
    assert config["max.message.bytes"] == str(MAX_MESSAGE_BYTES) and config["cleanup.policy"] == "compact"
    assert f"raised max.message.bytes to {MAX_MESSAGE_BYTES} on {changelog}" in worker.log_text()


def run_worker(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logmonitor", "worker"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "LOG_MONITOR_SERVER_PORT": str(free_port()), **env})


def test_no_broker_is_one_clear_line() -> None:
    result = run_worker(KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{free_port()}", LOGMONITOR_BROKER_WAIT="1s")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Kafka broker answers" in lines[0] and "logmonitor kafka start" in lines[0]


def test_a_bad_setting_is_one_clear_line(kafka_bootstrap: str) -> None:
    result = run_worker(KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, LOGMONITOR_STORE="redis://x")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == ["logmonitor: LOGMONITOR_STORE='redis://x': use memory:// or rocksdb://"]


def test_a_broken_alert_rules_file_is_one_clear_line(kafka_bootstrap: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: spike, kind: error_rate, window: 5m}\n")
    result = run_worker(KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, LOGMONITOR_ALERT_RULES=str(rules))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    expected = f"logmonitor: {rules}: rules[0].threshold: a whole number >= 0 is required"
    assert result.stderr.strip().splitlines() == [expected]


def test_a_partition_count_mismatch_is_one_clear_line(start_worker: Any) -> None:
    first = start_worker()
    first.wait_healthy()
    first.stop()
    result = run_worker(**{**{k: v for k, v in first.env.items() if k.startswith(("KAFKA", "LOGMONITOR"))},
                           "LOGMONITOR_PARTITIONS": "6"})
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "LOGMONITOR_PARTITIONS=6" in result.stderr and "has 4 partitions" in result.stderr


def test_retention_show_and_set_change_the_topics_on_the_cluster(start_worker: Any) -> None:
    worker = start_worker()
    worker.wait_healthy()
    env = {k: v for k, v in worker.env.items() if k.startswith(("KAFKA", "LOGMONITOR", "LOG_MONITOR"))}
    logs = env["LOGMONITOR_TOPIC_LOGS"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "logmonitor", "retention", *args], capture_output=True,
                              text=True, timeout=60, env={**os.environ, **env})

    shown = cli("show")
    assert shown.returncode == 0, shown.stderr
    assert f"{logs}\t3d" in shown.stdout.splitlines() and f"{env['LOGMONITOR_TOPIC_ERRORS']}\t30d" in shown.stdout
    changed = cli("set", logs, "36h")
    assert changed.returncode == 0 and changed.stdout.strip() == f"{logs}\t1d 12h", changed.stderr
    assert f"{logs}\t1d 12h" in cli("show").stdout.splitlines()
    config = asyncio.run(describe(env["KAFKA_BOOTSTRAP_SERVERS"], [logs]))[logs][1]
    assert config["retention.ms"] == str(36 * 3600_000)
    assert config["max.message.bytes"] == str(MAX_MESSAGE_BYTES), "the topic's other settings are kept"
    wrong = cli("set", logs, "soon")
    assert wrong.returncode == 2 and "DURATION" in wrong.stderr and "Traceback" not in wrong.stderr
    unknown = cli("set", "someone-elses-topic", "1d")
    assert unknown.returncode == 2 and "TOPIC" in unknown.stderr and "Traceback" not in unknown.stderr
