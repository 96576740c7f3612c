"""NDJSON of our records: each line checked by the router's own parser, normalised, given an id if it has none."""

from __future__ import annotations

import time

import orjson
import pytest

from logmonitor.ingest import decoded
from logmonitor.ingest.decoded import BodyTooLarge
from logmonitor.ingest.ndjson import decode_ndjson
from logmonitor.pipeline.records import InvalidRecord, parse_record
from logmonitor.timestamps import iso_timestamp

NOW = iso_timestamp(time.time())


def line(**fields: object) -> bytes:
    return orjson.dumps({"timestamp": NOW, "level": "ERROR", "service": "booking", "message": "boom", **fields})


def test_each_good_line_is_a_record_keyed_by_its_service_with_its_id_or_a_fresh_one() -> None:
    body = b"\n".join([line(id="keep-me"), b"", b"   ", line(service="search", level="warn"), b""])
    result = decode_ndjson(body)
    assert result.rejected == [] and [key for key, _value in result.records] == ["booking", "search"]
    first, second = (orjson.loads(value) for _key, value in result.records)
    assert first == {"id": "keep-me", "timestamp": NOW, "level": "ERROR", "service": "booking", "message": "boom",
                     "extra": {}}
    assert len(second["id"]) == 32 and second["level"] == "WARNING", "normalised as the router does"


def test_an_ecs_line_is_forwarded_in_our_own_shape() -> None:
    ecs = orjson.dumps({"@timestamp": NOW, "log.level": "error", "service.name": "api", "message": "m",
                        "error.type": "KeyError"})
    [(key, value)] = decode_ndjson(ecs).records
    assert key == "api" and orjson.loads(value)["exception"] == {"type": "KeyError", "message": None,
                                                                 "stacktrace": None}


@pytest.mark.parametrize("bad", [b"not json", b"[1]", line(level="LOUD"), line(service=""), b'{"level":"INFO"}',
                                 line(timestamp="2999-01-01T00:00:00Z"), b"\xff\xfe"],
                         ids=["not-json", "not-object", "bad-level", "no-service", "level-only", "future", "not-utf8"])
def test_a_bad_line_is_rejected_alone_with_the_reason_the_router_would_give(bad: bytes) -> None:
    result = decode_ndjson(b"\r\n".join([line(), bad, line()]))
    with pytest.raises(InvalidRecord) as router:
        parse_record(bad)
    assert len(result.records) == 2 and [(r.reason, r.raw) for r in result.rejected] == [(router.value.reason, bad)]


def test_more_lines_than_the_bound_make_the_body_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoded, "MAX_RECORDS_PER_BODY", 2)
    assert len(decode_ndjson(b"\n\n".join([line(), line()])).records) == 2
    with pytest.raises(BodyTooLarge):
        decode_ndjson(b"\n".join([line(), line(), b"x"]))
