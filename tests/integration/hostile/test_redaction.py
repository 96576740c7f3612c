"""Secrets from any producer are redacted by the time the API or the errors topic shows them (DESIGN section 6)."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from logmonitor.handler import KafkaLogHandler, Redactor
from logmonitor.timestamps import iso_timestamp
from tests.fixtures.traffic import produce, read_topic

SLACK_TOKEN = "xoxb-2048-1024-AbCdEfGhIjKlMnOp"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"


def errors_of(worker: Any, service: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The API's recent errors of ``service``, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        answer = worker.get_json("/api/v1/logs/errors", service=service)
        if answer["count"] >= count or time.monotonic() > deadline:
            return list(answer["errors"])
        time.sleep(0.3)


async def test_records_of_other_producers_are_redacted_in_the_api_and_the_errors_topic(module_worker: Any) -> None:
    env = module_worker.env
    service = f"ecs-{uuid.uuid4().hex[:8]}"
    ecs = {
        "@timestamp": iso_timestamp(time.time()), "log.level": "error", "service.name": service,
        "message": f"slack refused {SLACK_TOKEN}", "error.type": "AuthError",
        "error.message": f"redis://:hunter2@cache:6379 with key {AWS_KEY_ID}",
        "error.stack_trace": f"at Billing.charge(Billing.java:42) api_key={STRIPE_KEY}",
    }
    plain = {"level": "ERROR", "service": service, "message": "login failed for pwd=Tr0ub4dor",
             "extra": {"passphrase": "correct horse", "request": {"headers": f"Authorization: Bearer {STRIPE_KEY}"}}}
    await produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"],
                  [(service.encode(), orjson.dumps(record)) for record in (ecs, plain)])

    shown = errors_of(module_worker, service, 2)
    forwarded = [orjson.loads(message.value) for message in
                 await read_topic(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_ERRORS"], 10, timeout=10)
                 if message.key == service.encode()]
    for place, records in (("API", shown), ("errors topic", forwarded)):
        assert len(records) == 2, place
        text = orjson.dumps(records).decode()
        for secret in (SLACK_TOKEN, "hunter2", AWS_KEY_ID, STRIPE_KEY, "Tr0ub4dor", "correct horse"):
            assert secret not in text, f"{secret} in the {place}"
    by_message = {record["message"]: record for record in shown}
    assert set(by_message) == {"slack refused [Filtered]", "login failed for pwd=[Filtered]"}
    ecs_error = by_message["slack refused [Filtered]"]["exception"]
    assert ecs_error["message"] == "redis://:[Filtered]@cache:6379 with key [Filtered]"
    assert ecs_error["stacktrace"] == "at Billing.charge(Billing.java:42) api_key=[Filtered]"
    assert by_message["login failed for pwd=[Filtered]"]["extra"] == {
        "passphrase": "[Filtered]", "request": {"headers": "Authorization: Bearer [Filtered]"}}


class _KeepsEverything(Redactor):
    """A handler-side redactor that lets everything through: shows whether the router redacts again."""

    def text(self, text: str) -> str:
        return text

    def value(self, value: Any) -> Any:
        return value


def test_records_of_our_handler_are_redacted_once_by_the_handler_and_not_again(module_worker: Any,
                                                                                  tmp_path: Path) -> None:
    env = module_worker.env
    service = f"ours-{uuid.uuid4().hex[:8]}"
    handlers = {"marked": _KeepsEverything(), "unredacted": False}
    for name, redact in handlers.items():
        handler = KafkaLogHandler(env["KAFKA_BOOTSTRAP_SERVERS"], service=service, topic=env["LOGMONITOR_TOPIC_LOGS"],
                                  redact=redact, spool_dir=tmp_path / name)
        log = logging.getLogger(f"hostile.redaction.{name}")
        log.propagate = False
        log.addHandler(handler)
        try:
            log.error("%s handler: password=%s", name, "hunter2")
            handler.flush(30)
        finally:
            log.removeHandler(handler)
            handler.close()
    messages = {record["message"] for record in errors_of(module_worker, service, 2)}
    assert messages == {
        "marked handler: password=hunter2",  # the router trusts the handler's mark: no second pass
        "unredacted handler: password=[Filtered]",  # redact=False sends no mark: the router redacts
    }
