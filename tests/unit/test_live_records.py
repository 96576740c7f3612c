"""The live record feed's reading of ``application-logs``: as the router reads it, redacted before any filter."""

from __future__ import annotations

import time

from aiokafka import ConsumerRecord

from logmonitor.handler.redaction import FILTERED, REDACTED_HEADER, REDACTION_RULES
from logmonitor.web.live_filter import LiveFilter
from logmonitor.web.live_records import shown_records
from tests.fixtures.otlp import encoded, export_request, log_record
from tests.unit.test_router import raw

LOGS = "logs"


def message(value: bytes, *, ours: bool = False, offset: int = 7) -> ConsumerRecord:
    headers = [(REDACTED_HEADER, REDACTION_RULES)] if ours else []
    return ConsumerRecord(LOGS, 3, offset, 0, 0, b"pay", value, None, 1, len(value), headers)


def shown(value: bytes, **how: bool) -> list[dict | None]:  # type: ignore[type-arg]
    return [record for _value, record in shown_records(message(value, **how), time.time())]


def test_another_producers_record_is_redacted_and_given_its_place_as_id() -> None:
    (record,) = shown(raw("WARNING", "login password=hunter2", extra={"api_key": "k-123"}))
    assert record is not None
    assert record["message"] == f"login password={FILTERED}" and record["extra"] == {"api_key": FILTERED}
    assert record["id"] == f"{LOGS}-3-7" and record["level"] == "WARNING"


def test_our_handlers_record_is_shown_as_it_came() -> None:
    (record,) = shown(raw("INFO", "already redacted password=[Filtered]", id="abc"), ours=True)
    assert record is not None and record["message"] == "already redacted password=[Filtered]" and record["id"] == "abc"


def test_a_text_filter_never_finds_a_redacted_secret() -> None:
    (record,) = shown(raw("ERROR", "db password=hunter2 refused"))
    assert record is not None
    assert not LiveFilter(q="hunter2")(record) and LiveFilter(q="refused")(record)


def test_an_otlp_batch_is_shown_record_by_record_and_invalid_records_not_at_all() -> None:
    batch = encoded(export_request([log_record("first"), log_record("second", severity=17)]), "proto")
    records = shown(batch)
    assert [(r["message"], r["level"], r["id"]) for r in records if r] == [
        ("first", "INFO", f"{LOGS}-3-7-0"), ("second", "ERROR", f"{LOGS}-3-7-1")]
    assert shown(b"not json") == [None] and shown(b'{"level": "LOUD", "service": "s", "message": "m"}') == [None]
