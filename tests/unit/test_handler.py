"""The log handler with a fake producer injected (``producer_factory``): what reaches Kafka, the spool, never blocking.

tests/integration/test_handler.py runs the handler against a real broker, stopped and restarted.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import KafkaError

from logmonitor.handler import handler as handler_module
from logmonitor.handler.handler import KafkaLogHandler
from logmonitor.handler.redaction import FILTERED, REDACTED_HEADER, REDACTION_RULES

Delivery = Callable[[KafkaError | None, Any], None]


class FakeKafka:
    """confluent_kafka's Producer as the sender uses it, and the cluster behind it (up or down).

    It is its own factory: the sender thread builds "the producer" by calling it with the config.
    Callbacks run inside ``poll``/``purge``, on the sender's thread, as librdkafka runs them.
    """

    def __init__(self) -> None:
        self.up = True
        self.delivered: list[tuple[str, bytes, dict[str, Any], Any]] = []  # topic, key, value, headers
        self.held: list[tuple[str, bytes, bytes, Any, Delivery]] = []
        self.entered = threading.Event()  # a produce call has started
        self.gate = threading.Event()  # cleared: produce hangs, as a stuck client library would
        self.gate.set()
        self._error_cb: Callable[[KafkaError], None] = lambda _error: None
        self._reported_down = False

    def __call__(self, config: dict[str, Any]) -> FakeKafka:
        self._error_cb = config["error_cb"]
        return self

    def produce(self, topic: str, value: bytes, key: bytes, on_delivery: Delivery, headers: Any = None) -> None:
        self.entered.set()
        self.gate.wait()
        self.held.append((topic, key, value, headers, on_delivery))

    def poll(self, timeout: float) -> int:
        if not self.up:
            if not self._reported_down:
                self._reported_down = True
                self._error_cb(KafkaError(KafkaError._ALL_BROKERS_DOWN))
            time.sleep(min(timeout, 0.01))
            return 0
        held, self.held = self.held, []
        for topic, key, value, headers, on_delivery in held:
            self.delivered.append((topic, key, orjson.loads(value), headers))
            on_delivery(None, None)
        return len(held)

    def purge(self, in_queue: bool = True, in_flight: bool = True) -> None:
        held, self.held = self.held, []
        for *_message, on_delivery in held:
            on_delivery(KafkaError(KafkaError._PURGE_QUEUE), None)

    def __len__(self) -> int:
        return len(self.held)

    def messages(self) -> list[str]:
        return [value["message"] for _topic, _key, value, _headers in self.delivered]


def eventually(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait until ``check()`` holds (a generous liveness bound, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


@pytest.fixture
def kafka() -> FakeKafka:
    return FakeKafka()


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    own = logging.getLogger(f"fake-kafka-test-{uuid.uuid4().hex}")
    own.propagate, own.level = False, logging.DEBUG
    yield own
    for attached in list(own.handlers):
        own.removeHandler(attached)
        attached.close()


def attach(logger: logging.Logger, kafka: FakeKafka, tmp_path: Path, **options: Any) -> KafkaLogHandler:
    handler = KafkaLogHandler("127.0.0.1:1", service="pay", host="h1", spool_dir=tmp_path, producer_factory=kafka,
                              close_timeout=1.0, **options)
    logger.addHandler(handler)
    return handler


def test_a_record_reaches_the_producer_as_json_keyed_by_service_with_the_redaction_header(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path)
    logger.error("login failed password=%s", "hunter2", extra={"order": 17})
    handler.flush(30)
    [(topic, key, value, headers)] = kafka.delivered
    assert topic == "application-logs" and key == b"pay" and headers == [(REDACTED_HEADER, REDACTION_RULES)]
    assert value["message"] == f"login failed password={FILTERED}" and "hunter2" not in orjson.dumps(value).decode()
    assert (value["service"], value["host"], value["level"], value["extra"]) == ("pay", "h1", "ERROR", {"order": 17})
    assert handler.delivered == 1 and handler.spooled == 0


def test_without_redaction_the_router_is_not_told_the_record_was_redacted(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path, redact=False)
    logger.warning("password=hunter2")
    handler.flush(30)
    [(_topic, _key, value, headers)] = kafka.delivered
    assert headers is None and value["message"] == "password=hunter2"


def test_while_kafka_is_down_records_go_to_the_spool_and_arrive_in_order_when_it_returns(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path) -> None:
    handler = attach(logger, kafka, tmp_path)
    kafka.up = False
    for number in range(5):
        logger.warning("record %d", number)
    eventually(lambda: handler.spooled == 5, "the records are spooled while no broker is reachable")
    assert not kafka.delivered and any(tmp_path.iterdir()), "on disk"
    kafka.up = True
    eventually(lambda: handler.spooled == 0, "the spool is delivered once Kafka is back")
    assert kafka.messages() == [f"record {number}" for number in range(5)]


def test_emit_never_blocks_on_a_stuck_producer_it_drops_beyond_the_queue_bound(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handler_module, "QUEUE_LIMIT", 100)
    handler = attach(logger, kafka, tmp_path)
    kafka.gate.clear()
    logger.info("first")
    eventually(kafka.entered.is_set, "the sender hands the first record over, and hangs there")
    for number in range(1000):
        logger.info("record %d", number)  # returns although the sender is stuck
    assert handler.dropped == {"memory": 900}
    kafka.gate.set()
    handler.flush(30)
    assert kafka.messages() == ["first", *(f"record {number}" for number in range(100))]


def test_records_carry_the_release_and_environment_of_the_arguments_or_the_environment(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGMONITOR_RELEASE", "2.4.1")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.version=9,deployment.environment.name=prod%2Deu")
    handler = attach(logger, kafka, tmp_path)
    logger.info("started")
    handler.flush(30)
    assert handler.deployment == ("2.4.1", "prod-eu")
    [(_topic, _key, value, _headers)] = kafka.delivered
    assert (value["release"], value["environment"]) == ("2.4.1", "prod-eu")


def test_records_without_a_release_or_environment_do_not_carry_the_fields(
        logger: logging.Logger, kafka: FakeKafka, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("LOGMONITOR_RELEASE", "LOGMONITOR_ENVIRONMENT", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(variable, raising=False)
    handler = attach(logger, kafka, tmp_path, environment="staging")
    logger.info("started")
    handler.flush(30)
    [(_topic, _key, value, _headers)] = kafka.delivered
    assert "release" not in value and value["environment"] == "staging"
