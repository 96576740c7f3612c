"""Breadcrumbs in the handler: which records an error carries (context, order, levels), cut, redacted, bounded."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from logmonitor.handler import breadcrumbs, log_context
from logmonitor.handler.redaction import FILTERED
from tests.unit.test_handler import FakeKafka, attach
from tests.unit.test_handler import kafka as kafka
from tests.unit.test_handler import logger as logger


@pytest.fixture(autouse=True)
def fresh_trail() -> Iterator[None]:
    """Each test starts as a new thread would: the test thread's trail of earlier tests is set aside."""
    token = breadcrumbs._TRAIL.set(None)
    yield
    breadcrumbs._TRAIL.reset(token)


def shipped(kafka: FakeKafka) -> list[dict[str, Any]]:
    return [value for _topic, _key, value, _headers in kafka.delivered]


def trail_of(error: dict[str, Any]) -> list[str]:
    """The messages of an error's breadcrumbs, oldest first."""
    return [crumb["message"] for crumb in error.get("breadcrumbs", [])]


def test_an_error_carries_the_records_before_it_oldest_first_redacted_and_becomes_one_itself(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path)
    logger.debug("cart loaded")
    logger.info("paying with password=hunter2")
    logger.error("charge failed")
    logger.critical("giving up")
    handler.flush(30)
    debug, info, first, second = shipped(kafka)
    assert "breadcrumbs" not in debug and "breadcrumbs" not in info, "only errors carry them"
    assert trail_of(first) == ["cart loaded", f"paying with password={FILTERED}"]
    assert trail_of(second) == ["cart loaded", f"paying with password={FILTERED}", "charge failed"]
    crumb = first["breadcrumbs"][0]
    assert set(crumb) == {"timestamp", "level", "logger", "message"}
    assert (crumb["level"], crumb["logger"], crumb["timestamp"]) == ("DEBUG", logger.name, debug["timestamp"])
    assert "hunter2" not in orjson.dumps(shipped(kafka)).decode()


def test_records_below_ship_level_are_breadcrumbs_only(logger: logging.Logger, kafka: FakeKafka,
                                                        tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path, level=logging.DEBUG, ship_level="INFO")
    logger.debug("cache miss for order 7")
    logger.info("charging order 7")
    logger.error("charge failed")
    handler.flush(30)
    assert [value["level"] for value in shipped(kafka)] == ["INFO", "ERROR"]
    assert trail_of(shipped(kafka)[1]) == ["cache miss for order 7", "charging order 7"]


def test_without_ship_level_every_record_the_handler_takes_is_shipped_as_before(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path, level=logging.INFO)
    logger.debug("not taken")
    logger.info("taken")
    logger.error("failed")
    handler.flush(30)
    assert [value["message"] for value in shipped(kafka)] == ["taken", "failed"]
    assert trail_of(shipped(kafka)[1]) == ["taken"], "a record the handler does not take is no breadcrumb either"


def test_an_error_in_a_log_context_block_carries_only_that_blocks_records(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path)
    logger.info("before the request")
    with log_context(request_id="r-1"):
        logger.info("request r-1 starts")
        with log_context(user_id="u-1"):
            logger.info("as user u-1")
            logger.error("inner failure")
        logger.error("outer failure")
    with log_context(request_id="r-2"):
        logger.error("r-2 failed at once")
    logger.error("after the requests")
    handler.flush(30)
    errors = [value for value in shipped(kafka) if value["level"] == "ERROR"]
    assert [trail_of(error) for error in errors] == [
        ["request r-1 starts", "as user u-1"],  # a nested block starts from its enclosing block's
        ["request r-1 starts"],  # whose own records go on without the nested block's
        [],  # another request's block starts empty
        ["before the request"],  # and the thread's trail is back after the blocks
    ]


def test_threads_and_asyncio_tasks_keep_their_own(logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path)
    logger.info("main thread")

    def in_thread() -> None:
        logger.info("thread step")
        logger.error("thread failed")

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()

    async def task(name: str) -> None:
        logger.info("%s step 1", name)
        await asyncio.sleep(0)
        logger.info("%s step 2", name)
        await asyncio.sleep(0)
        logger.error("%s failed", name)

    async def both() -> None:
        await asyncio.gather(task("a"), task("b"))

    asyncio.run(both())
    handler.flush(30)
    trails = {value["message"]: trail_of(value) for value in shipped(kafka) if value["level"] == "ERROR"}
    assert trails == {"thread failed": ["thread step"], "a failed": ["a step 1", "a step 2"],
                      "b failed": ["b step 1", "b step 2"]}


def test_count_and_bytes_bound_what_an_error_carries_the_newest_kept(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path, breadcrumbs=3, breadcrumb_bytes=1200)
    for number in range(10):
        logger.info("step %d", number)
    logger.error("failed")
    logger.info("x" * 5000)
    logger.error("failed again")
    handler.flush(30)
    first, second = (value for value in shipped(kafka) if value["level"] == "ERROR")
    assert trail_of(first) == ["step 7", "step 8", "step 9"]
    newest = ["step 9", "failed", "x" * breadcrumbs.MESSAGE_CHARS]  # the long message cut to 1,024 characters
    assert trail_of(second) == newest[-len(trail_of(second)):] and len(trail_of(second)) in (1, 2)
    assert len(orjson.dumps(second["breadcrumbs"])) <= 1200, "the oldest left out to fit"


def test_a_message_is_cut_before_it_is_redacted(logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path)
    logger.info("%s token=%s", "x" * (breadcrumbs.MESSAGE_CHARS - 8), "s3cr3t-value")
    logger.error("failed")
    handler.flush(30)
    [crumb] = shipped(kafka)[1]["breadcrumbs"]
    assert crumb["message"] == "x" * (breadcrumbs.MESSAGE_CHARS - 8) + f" token={FILTERED}"
    assert "s3cr3t" not in orjson.dumps(shipped(kafka)).decode()


def test_no_breadcrumbs_when_they_are_turned_off(logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path, breadcrumbs=0)
    logger.info("step")
    logger.error("failed")
    handler.flush(30)
    assert "breadcrumbs" not in shipped(kafka)[1]


@pytest.mark.parametrize("options", [{"breadcrumbs": 101}, {"breadcrumbs": -1}, {"breadcrumb_bytes": 1},
                                     {"breadcrumb_bytes": 64 * 1024 + 1}, {"ship_level": "LOUD"}])
def test_unusable_breadcrumb_options_are_refused(options: dict[str, Any], kafka: FakeKafka, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        attach(logging.getLogger("refused"), kafka, tmp_path, **options)


def test_trails_go_with_their_tasks_and_threads(logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    attach(logger, kafka, tmp_path, ship_level=logging.ERROR)
    gc.collect()
    before = len(breadcrumbs._live)

    async def one(number: int) -> None:
        logger.info("task %d", number)

    async def many() -> None:
        await asyncio.gather(*(one(number) for number in range(500)))

    asyncio.run(many())
    threads = [threading.Thread(target=logger.info, args=("thread",)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    del threads
    gc.collect()
    assert len(breadcrumbs._live) <= before + 1, "only this thread's trail may remain"


def test_contexts_beyond_the_bound_get_no_trail_and_it_is_said_once(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    handler = attach(logger, kafka, tmp_path)
    monkeypatch.setattr(breadcrumbs, "MAX_TRAILS", len(breadcrumbs._live))
    monkeypatch.setattr(breadcrumbs, "_refused", [False])
    for request in ("r-1", "r-2"):
        with log_context(request_id=request):
            logger.info("step")
            logger.error("failed")
    handler.flush(30)
    assert all("breadcrumbs" not in value for value in shipped(kafka))
    assert capsys.readouterr().err.count("contexts keep breadcrumbs already") == 1


def test_a_breadcrumb_shared_by_a_burst_of_errors_is_redacted_once(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path)
    logger.info("login with password=hunter2")
    for number in range(20):
        logger.error("failure %d", number)
    handler.flush(30)
    errors = shipped(kafka)[1:]
    assert all(trail_of(error)[0] == f"login with password={FILTERED}" for error in errors)
    assert handler.redactor.redactions == 2, "the INFO record itself, and its breadcrumb once for all 20 errors"
