"""State counted before home partitions, by the version before them, moved once by ``logmonitor move-state``.

The worker of the last commit before home partitions (taken from the repository's history) counts
services spread over every partition, as that version did: on whichever partition a record arrived,
each partition's changelog holding a copy of the service's cells. After ``move-state`` this version
answers exactly for them, and keeps doing so across restarts: totals, one group per bug, triage.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fixtures.traffic import log_record
from tests.integration.test_repartition import PARTITIONS, groups_of, produce_placed, spread
from tests.integration.test_router import wait_for
from tests.integration.test_triage import crash, send, wait_until

pytestmark = pytest.mark.integration

BEFORE_HOME_PARTITIONS = "694be825c01716b88f6e26b91da22c4cd5f057e9"  # main before the merge of issue 25 (e73d144)
REPOSITORY = Path(__file__).resolve().parents[2]
SERVICES = ("upgraded-pay", "upgraded-search")


def old_version(directory: Path) -> Path:
    """The ``logmonitor`` package as it was before home partitions, extracted into ``directory``."""
    archive = subprocess.run(["git", "-C", str(REPOSITORY), "archive", BEFORE_HOME_PARTITIONS, "logmonitor"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    return directory


def move_state(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logmonitor", "move-state"], env=env, capture_output=True,
                          text=True, timeout=120)


def totals(worker: Any) -> dict[str, Any]:
    stats = worker.get_json("/api/v1/logs/stats")
    return {service: stats["by_service"].get(service) for service in SERVICES}


def test_state_an_older_version_counted_on_every_partition_is_moved_home_and_answered_exactly(
        kafka_bootstrap: str, start_worker: Callable[..., Any], tmp_path: Path) -> None:
    old = start_worker(cwd=old_version(tmp_path), PYTHONPATH=str(tmp_path))
    old.wait_healthy()
    topic = old.env["LOGMONITOR_TOPIC_LOGS"]
    records = [crash(service, n) if n % 5 == 0 else log_record(service, "INFO", f"served {n}")
               for service in SERVICES for n in range(40)]  # the errors too on every partition
    asyncio.run(produce_placed(kafka_bootstrap, topic, spread(records)))
    expected = {service: {"INFO": 32, "ERROR": 8} for service in SERVICES}
    wait_for(old, "/api/v1/logs/stats", lambda _stats: totals(old) == expected, timeout=60)
    env = {**old.env, "PYTHONPATH": str(REPOSITORY)}  # this version from here on
    refused = move_state(env)
    assert refused.returncode == 1 and "stop every worker first" in refused.stderr, refused.stderr
    old.stop()

    moved = move_state(env)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "error-groups-changelog: 2 cells to their home partition" in moved.stdout, moved.stdout
    again = move_state(env)
    assert again.returncode == 0 and "0 cells" in again.stdout and " 1 cells" not in again.stdout, again.stdout

    new = start_worker(PYTHONPATH=str(REPOSITORY))
    for restart in range(2):  # the first start recovers the moved state; a restart recovers it again alike
        new.wait_healthy()
        wait_for(new, "/api/v1/logs/stats", lambda _stats: totals(new) == expected, timeout=60)
        assert new.get_json("/api/v1/logs/stats")["errors_last_hour"] == 16, "the per-minute windows moved too"
        for service in SERVICES:
            assert [group["count"] for group in groups_of(new, service)] == [8], f"{service}: one group of 8"
        if restart == 0:
            new.restart()

    (group,) = groups_of(new, SERVICES[0])
    code, answer = send(new, "PATCH", f"/api/v1/logs/groups/{group['id']}", orjson.dumps({"status": "resolved"}))
    assert code == 200, answer
    asyncio.run(produce_placed(kafka_bootstrap, topic, spread([crash(SERVICES[0], 100 + n)
                                                                for n in range(PARTITIONS)])))
    shown = wait_until(lambda: (answer := new.get_json(f"/api/v1/logs/groups/{group['id']}"))["count"] == 8 + PARTITIONS
                       and answer, 60, "every new event counted in the one group")
    assert shown["status"] == "regressed"
    assert [entry["why"] for entry in shown["history"]] == ["request", "regression"]
    assert [group["count"] for group in groups_of(new, SERVICES[0])] == [8 + PARTITIONS]
