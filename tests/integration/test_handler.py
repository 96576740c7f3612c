"""KafkaLogHandler against the real broker: fields, redaction, dictConfig, fork, outages, spool replay."""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from logmonitor.dev.localkafka import LocalKafka
from logmonitor.handler import KafkaLogHandler, LogMonitor, log_context
from tests.fixtures.ports import free_port
from tests.fixtures.traffic import create_topic, read_topic

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class PaymentError(Exception):
    """Raised so the handler has a real exception to ship."""


@pytest.fixture
def topic(kafka_bootstrap: str, unique_name: Callable[[str], str]) -> Iterator[str]:
    """A fresh two-partition topic for the test's records."""
    name = unique_name("handler-logs")
    asyncio.run(create_topic(kafka_bootstrap, name, partitions=2))
    yield name


@pytest.fixture
def make_logger(tmp_path: Path) -> Iterator[Callable[..., tuple[logging.Logger, KafkaLogHandler]]]:
    """Build a logger with its own KafkaLogHandler; closes every handler at the end."""
    made: list[tuple[logging.Logger, KafkaLogHandler]] = []

    def make(bootstrap: str, topic: str, service: str = "usermanagement", **options: Any) -> tuple[
            logging.Logger, KafkaLogHandler]:
        options.setdefault("spool_dir", tmp_path / f"spool-{service}")
        handler = KafkaLogHandler(bootstrap, service=service, host="host-1", topic=topic, **options)
        log = logging.getLogger(f"test.{service}.{len(made)}")
        log.setLevel(logging.DEBUG)
        log.propagate = False
        log.addHandler(handler)
        made.append((log, handler))
        return log, handler

    yield make
    for log, handler in made:
        log.removeHandler(handler)
        handler.close()


def values(records: list[Any]) -> list[dict[str, Any]]:
    """The JSON values of consumed records."""
    return [orjson.loads(record.value) for record in records]


async def test_every_field_round_trips(kafka_bootstrap: str, topic: str, make_logger: Any) -> None:
    log, handler = make_logger(kafka_bootstrap, topic)
    with log_context(trace_id="trace-ctx", span_id="span-ctx", user_id="u-ctx"):
        log.info("signed up %s", "alice", extra={"request_id": "req-1", "plan": "pro", "obj": object()})
        try:
            raise PaymentError("card declined for token=abc123")
        except PaymentError:
            log.exception("payment failed for %d", 42, extra={"api_key": "sk-live-1"})
    assert handler.flush(15) is None
    records = await read_topic(kafka_bootstrap, topic, expected=2)
    assert [record.key for record in records] == [b"usermanagement", b"usermanagement"]
    info, error = values(records)

    assert re.fullmatch(r"[0-9a-f]{32}", info["id"]) and info["id"] != error["id"]
    assert ISO_MS_Z.match(info["timestamp"])
    assert info["level"] == "INFO" and error["level"] == "ERROR"
    assert info["service"] == "usermanagement" and info["host"] == "host-1"
    assert info["logger"] == log.name and info["message"] == "signed up alice"
    assert info["module"] == "test_handler" and info["function"] == "test_every_field_round_trips"
    assert isinstance(info["line"], int) and info["process"] == os.getpid() and info["thread"] == "MainThread"
    assert (info["request_id"], info["trace_id"], info["span_id"], info["user_id"]) == (
        "req-1", "trace-ctx", "span-ctx", "u-ctx")
    assert error["request_id"] is None, "extra= applies to its own call only"
    assert info["extra"]["plan"] == "pro" and info["extra"]["obj"].startswith("<object object")
    assert info["exception"] is None

    exception = error["exception"]
    assert exception["type"] == f"{__name__}.PaymentError"
    assert exception["message"] == "card declined for token=[Filtered]"
    assert "Traceback (most recent call last)" in exception["stacktrace"]
    assert 'raise PaymentError("card declined for token=' in exception["stacktrace"]
    assert "abc123" not in orjson.dumps(error).decode()
    assert error["message"] == "payment failed for 42" and error["extra"] == {"api_key": "[Filtered]"}


async def test_works_from_dict_config(kafka_bootstrap: str, topic: str, tmp_path: Path) -> None:
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"kafka": {
            "class": "logmonitor.handler.KafkaLogHandler", "bootstrap_servers": kafka_bootstrap,
            "service": "booking", "topic": topic, "spool_dir": str(tmp_path / "spool"), "level": "INFO",
        }},
        "loggers": {"configured": {"handlers": ["kafka"], "level": "DEBUG", "propagate": False}},
    })
    log = logging.getLogger("configured")
    handler = log.handlers[0]
    try:
        log.debug("below the handler level")
        log.warning("booking %s delayed", "b-7")
        handler.flush()
        records = values(await read_topic(kafka_bootstrap, topic, expected=1, timeout=20))
    finally:
        log.removeHandler(handler)
        handler.close()
    assert [(r["service"], r["level"], r["message"]) for r in records] == [
        ("booking", "WARNING", "booking b-7 delayed")]


def test_a_forked_child_gets_a_producer_of_its_own(kafka_bootstrap: str, topic: str, make_logger: Any) -> None:
    log, handler = make_logger(kafka_bootstrap, topic)
    log.info("parent before fork")
    handler.flush()
    pid = os.fork()
    if pid == 0:  # the child: log through the inherited handler, flush, leave without cleanup
        try:
            log.info("child after fork")
            handler.flush(15)
            handler.close()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    log.info("parent after fork")
    handler.flush()
    records = values(asyncio.run(read_topic(kafka_bootstrap, topic, expected=3)))
    by_message = {r["message"]: r["process"] for r in records}
    assert set(by_message) == {"parent before fork", "child after fork", "parent after fork"}
    assert by_message["child after fork"] == pid != by_message["parent after fork"] == os.getpid()


async def test_kafka_away_for_30_seconds_loses_nothing_and_keeps_order(
        restartable_broker: LocalKafka, make_logger: Any) -> None:
    bootstrap = restartable_broker.bootstrap_servers
    await create_topic(bootstrap, "application-logs", partitions=3)
    services = ("payment", "booking")
    loggers = {service: make_logger(bootstrap, "application-logs", service=service) for service in services}
    restartable_broker.stop()
    down_at = time.monotonic()
    worst_emit = 0.0
    for i in range(10_000):
        service = services[i % 2]
        started = time.perf_counter()
        loggers[service][0].error("order %d failed", i)
        worst_emit = max(worst_emit, time.perf_counter() - started)
    print(f"10,000 emits with Kafka down, slowest {worst_emit * 1e6:.0f} us")
    assert time.monotonic() - down_at < 30, "emit() must not wait for Kafka"
    await asyncio.sleep(max(0.0, 30 - (time.monotonic() - down_at)))
    spooled = sum(handler.spooled for _log, handler in loggers.values())
    await asyncio.to_thread(restartable_broker.start)
    for _log, handler in loggers.values():
        await asyncio.to_thread(handler.flush, 60)

    records = values(await read_topic(bootstrap, "application-logs", expected=10_000, timeout=90))
    assert spooled > 0, "with Kafka away for 30 s the records went to the disk spool"
    assert len(records) == 10_000
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids), "no record twice"
    for service in services:
        numbers = [int(r["message"].split()[1]) for r in records if r["service"] == service]
        assert numbers == sorted(numbers) and len(numbers) == 5000, f"{service}: out of order or missing"


_SPOOLING_CHILD = textwrap.dedent("""
    import logging, sys, time
    from logmonitor.handler import KafkaLogHandler
    handler = KafkaLogHandler(sys.argv[1], service="notification", topic=sys.argv[2], spool_dir=sys.argv[3])
    log = logging.getLogger("child"); log.addHandler(handler); log.setLevel(logging.INFO)
    for i in range(int(sys.argv[4])):
        log.info("queued email %d", i)
    while handler.spooled < int(sys.argv[4]):
        time.sleep(0.05)
    print("spooled", flush=True)
    time.sleep(600)
""")

_REPLAYING_CHILD = textwrap.dedent("""
    import logging, sys
    from logmonitor.handler import KafkaLogHandler
    handler = KafkaLogHandler(sys.argv[1], service="notification", topic=sys.argv[2], spool_dir=sys.argv[3])
    logging.getLogger("child").addHandler(handler)
    logging.getLogger("child").warning("restarted")
    handler.flush(60)
    handler.close()
    print("delivered", handler.delivered, flush=True)
""")


def test_the_spool_is_replayed_after_the_process_is_killed(kafka_bootstrap: str, topic: str,
                                                           tmp_path: Path) -> None:
    spool = str(tmp_path / "spool")
    unreachable = f"127.0.0.1:{free_port()}"
    first = subprocess.Popen([sys.executable, "-c", _SPOOLING_CHILD, unreachable, topic, spool, "2000"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "spooled"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert list(Path(spool).glob("*.db")), "the killed process left its spool behind"

    second = subprocess.run([sys.executable, "-c", _REPLAYING_CHILD, kafka_bootstrap, topic, spool],
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    records = values(asyncio.run(read_topic(kafka_bootstrap, topic, expected=2001)))
    messages = [r["message"] for r in records]
    assert messages == [f"queued email {i}" for i in range(2000)] + ["restarted"]
    assert not list(Path(spool).glob("*.db")), "a delivered spool is removed"


def test_log_monitor_logger_behaves_the_same_with_kafka_down(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monitor = LogMonitor("usermanagement", bootstrap_servers=f"127.0.0.1:{free_port()}",
                         spool_dir=tmp_path / "spool", close_timeout=1.0)
    monitor.logger.info("user %s logged in", "bob")
    monitor.logger.error("user %s locked out", "eve")
    assert monitor.handler.flush(2) is None
    monitor.close()
    console = capsys.readouterr().err
    assert "INFO     usermanagement: user bob logged in" in console
    assert "ERROR    usermanagement: user eve locked out" in console
    assert "Traceback" not in console
    assert list((tmp_path / "spool").glob("*.db")), "what could not be sent waits in the spool"


async def test_client_library_records_never_reenter_the_handler(kafka_bootstrap: str, topic: str,
                                                                tmp_path: Path) -> None:
    root = logging.getLogger()
    handler = KafkaLogHandler(kafka_bootstrap, service="search", topic=topic, spool_dir=tmp_path / "s")
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        logging.getLogger("search.api").info("query took %d ms", 12)
        handler.flush()
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()
    records = values(await read_topic(kafka_bootstrap, topic, expected=2, timeout=5))
    assert [r["logger"] for r in records] == ["search.api"]
