"""Dead letters: the raw record as text or base64, and a bounded size whatever the record."""

from __future__ import annotations

import base64

import orjson
import pytest

from logmonitor.handler.redaction import FILTERED, Redactor
from logmonitor.pipeline.dead_letter import KEPT_RAW_BYTES, REDACTED_RAW_BYTES, dead_letter
from logmonitor.server.topic_admin import MAX_MESSAGE_BYTES


def letter(raw: bytes | None, redactor: Redactor | None = None) -> dict[str, object]:
    return dict(orjson.loads(dead_letter(raw, "why: because", "logs", 3, 41, redactor=redactor)))


def test_a_utf8_record_is_kept_whole_as_text_with_its_source() -> None:
    found = letter('{"message": "café"'.encode())
    assert found["raw"] == '{"message": "café"' and found["raw_encoding"] == "utf-8"
    assert found["reason"] == "why: because" and found["source"] == {"topic": "logs", "partition": 3, "offset": 41}
    assert "raw_truncated" not in found and "raw_bytes" not in found


def test_undecodable_bytes_are_kept_as_base64() -> None:
    found = letter(b'{"service": "\xff\xfe"}')
    assert found["raw_encoding"] == "base64" and base64.b64decode(str(found["raw"])) == b'{"service": "\xff\xfe"}'


def test_a_missing_value_is_an_empty_text() -> None:
    assert letter(None)["raw"] == ""


def test_an_oversized_record_keeps_its_start_cut_between_characters() -> None:
    raw = b"a" * (KEPT_RAW_BYTES - 1) + "é".encode() * 10  # the cut falls inside the first é
    found = letter(raw)
    assert found["raw_encoding"] == "utf-8" and found["raw"] == "a" * (KEPT_RAW_BYTES - 1)
    assert found["raw_truncated"] is True and found["raw_bytes"] == len(raw)


def test_an_oversized_undecodable_record_keeps_its_start_as_base64() -> None:
    raw = b"\xff" * (KEPT_RAW_BYTES + 5)
    found = letter(raw)
    assert base64.b64decode(str(found["raw"])) == raw[:KEPT_RAW_BYTES] and found["raw_bytes"] == len(raw)


@pytest.mark.parametrize("unit", [b"\x01", b"\xff", "\u2028".encode(), b'"'])
def test_whatever_the_record_the_letter_fits_the_dlq_topic(unit: bytes) -> None:
    """The worst cases: control characters escape to six bytes each, invalid bytes go to base64."""
    assert len(dead_letter(unit * (20 * 1024 * 1024 // len(unit)), "oversized", "logs", 0, 0)) < MAX_MESSAGE_BYTES


def test_another_producers_record_is_kept_redacted() -> None:
    found = letter(b'{"password": "hunter2", "message": "Bearer abcdef.123456", "note": "caf\xc3\xa9"', Redactor())
    assert found["raw"] == f'{{"password": "{FILTERED}", "message": "Bearer {FILTERED}", "note": "café"'
    assert found["raw_encoding"] == "utf-8" and found["raw_redacted"] is True and "raw_truncated" not in found


def test_another_producers_undecodable_record_is_redacted_byte_for_byte_outside_its_secrets() -> None:
    found = letter(b'\xff\xfe{"token": "s3cr3t", "n": 1}', Redactor())
    assert found["raw_encoding"] == "base64" and found["raw_redacted"] is True
    assert base64.b64decode(str(found["raw"])) == f'\xff\xfe{{"token": "{FILTERED}", "n": 1}}'.encode("latin-1")


def test_another_producers_long_record_keeps_the_start_the_redactor_reads() -> None:
    """Redaction reads what it keeps: a hostile megabyte would hold the event loop for about 0.3 s."""
    raw = b"a:" * KEPT_RAW_BYTES
    found = letter(raw, Redactor())
    assert found["raw"] == "a:" * (REDACTED_RAW_BYTES // 2) and found["raw_truncated"] is True
    assert found["raw_bytes"] == len(raw) and found["raw_redacted"] is True
