"""Error groups a producer can grow are bounded per service, visibly (issue 17 item 6, DESIGN section 6).

Against a real worker: a service logging errors with ever new words keeps at most
``LOGMONITOR_MAX_GROUPS_PER_SERVICE`` groups, the rest counted in its ``_overflow`` group,
exactly, announced once and counted in a metric; the forwarded errors carry the fingerprint they
are counted under; a restart after a kill recovers the admitted groups.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from logmonitor.pipeline.tables.group_cap import OVERFLOW_FINGERPRINT, OVERFLOW_TITLE
from tests.fixtures.receivers import wait_until
from tests.fixtures.traffic import keyed, log_record, produce, read_topic

CAP, ERRORS, SERVICE = 10, 100, "wordy"
ANNOUNCEMENT = f"group cap reached: service '{SERVICE}' has LOGMONITOR_MAX_GROUPS_PER_SERVICE={CAP} error groups"


def word(n: int) -> str:
    """A word of letters only (the fingerprint masks numbers and hex), different for each ``n``."""
    return "".join("ghijklmnopqrstuvwxyz"[int(digit) * 2] for digit in f"{n:03d}")


def messages() -> list[str]:
    return [f"cannot reach the {word(n)} backend" for n in range(ERRORS)]


def errors_counted(worker: Any, total: int) -> None:
    wait_until(lambda: worker.get_json("/api/v1/logs/stats")["total_errors"] == total, 120, f"{total} errors counted")


def groups_by_fingerprint(worker: Any) -> dict[str, dict[str, Any]]:
    groups = worker.get_json("/api/v1/logs/groups", service=SERVICE, limit=1000)["groups"]
    by_fingerprint = {group["fingerprint"]: group for group in groups}
    assert len(by_fingerprint) == len(groups), "one group per fingerprint"
    return by_fingerprint


def overflow_metric(worker: Any) -> float:
    line = next(line for line in worker.get_text("/metrics").splitlines()
                if line.startswith("logmonitor_groups_overflowed_total "))
    return float(line.split()[1])


async def test_groups_beyond_the_cap_are_counted_in_the_services_overflow_group(start_worker: Any) -> None:
    worker = start_worker(LOGMONITOR_MAX_GROUPS_PER_SERVICE=str(CAP))
    worker.wait_healthy()
    bootstrap, env = worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env
    await produce(bootstrap, env["LOGMONITOR_TOPIC_LOGS"], keyed(log_record(SERVICE, "ERROR", m) for m in messages()))
    errors_counted(worker, ERRORS)

    groups = groups_by_fingerprint(worker)
    overflow = groups.pop(OVERFLOW_FINGERPRINT)
    assert len(groups) == CAP, sorted(group["title"] for group in groups.values())
    assert sorted(group["title"] for group in groups.values()) == sorted(messages()[:CAP]), "first come, first kept"
    assert all(group["count"] == 1 for group in groups.values())
    assert (overflow["count"], overflow["title"], overflow["exception_type"]) == (ERRORS - CAP, OVERFLOW_TITLE, None)

    forwarded = [orjson.loads(message.value)
                 for message in await read_topic(bootstrap, env["LOGMONITOR_TOPIC_ERRORS"], ERRORS)]
    assert len(forwarded) == ERRORS
    assert Counter(error["fingerprint"] for error in forwarded) == {
        **{fingerprint: 1 for fingerprint in groups}, OVERFLOW_FINGERPRINT: ERRORS - CAP}, "as the groups count them"
    overflowed = [error for error in forwarded if error["fingerprint"] == OVERFLOW_FINGERPRINT]
    assert all(error["title"] == OVERFLOW_TITLE for error in overflowed)
    own = {error["extra"]["overflowed_fingerprint"] for error in overflowed}
    assert len(own) == ERRORS - CAP and not own & set(groups), "each keeps its own fingerprint in extra"
    recent = worker.get_json(f"/api/v1/logs/errors/{SERVICE}", limit=1000)["errors"]
    assert Counter(error["fingerprint"] for error in recent)[OVERFLOW_FINGERPRINT] == ERRORS - CAP

    assert worker.log_text().count(ANNOUNCEMENT) == 1, worker.log_tail()
    assert overflow_metric(worker) == ERRORS - CAP

    worker.kill()  # SIGKILL: the admitted groups come back from the changelog
    worker.start()
    worker.wait_healthy()
    await produce(bootstrap, env["LOGMONITOR_TOPIC_LOGS"], keyed(log_record(SERVICE, "ERROR", m) for m in messages()))
    errors_counted(worker, 2 * ERRORS)
    again = groups_by_fingerprint(worker)
    assert {fingerprint: group["count"] for fingerprint, group in again.items()} == {
        **{fingerprint: 2 for fingerprint in groups}, OVERFLOW_FINGERPRINT: 2 * (ERRORS - CAP)}
