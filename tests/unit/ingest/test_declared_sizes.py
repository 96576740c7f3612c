"""Bodies that declare more than they carry are refused with work proportional to their size (issue 26 items 1, 2).

Each decoder gets a body of 1.5 million empty records (a few megabytes; gzip or lz4 make them
kilobytes on the wire), against a record bound lowered to 10,000 so the suite stays fast (the
work of refusing is that of the bound, whatever the body declares). Before, the protobuf parsers
built every record first: 18 MB of them took the ingest server from 474 MiB to 3.4 GiB. Memory is
measured with tracemalloc (the body itself is made before tracing starts); time is not asserted.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import cramjam
import pytest

from logmonitor.ingest import decoded
from logmonitor.ingest.decoded import BodyTooLarge, Rejected, json_parse_cost
from logmonitor.ingest.kafka_batches import records_of
from logmonitor.ingest.loki import decode_loki_json, decode_loki_proto
from logmonitor.ingest.loki_push import EntryAdapter, Timestamp
from logmonitor.ingest.ndjson import decode_ndjson
from logmonitor.ingest.otlp import decode_otlp_json
from logmonitor.ingest.otlp_proto import decode_otlp_proto
from logmonitor.ingest.settings import LokiLabels
from logmonitor.ingest.wire_count import MalformedWire, length_delimited
from tests.fixtures.protobuf_wire import field

DECLARED = 1_500_000
MIB = 1024 * 1024
BOUND = 2 * MIB  # what refusing may take beyond the body: the record bound's work, never the declared records'
LOKI_LABELS = LokiLabels(service=("service_name",))


EMPTY_RECORDS = b"\x12\x00" * DECLARED  # field 2 (log_records, or a stream's entries), length 0
OTLP_PROTO = field(1, field(2, EMPTY_RECORDS))  # resource_logs { scope_logs { log_records {} x N } }
OTLP_JSON = b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[' + b"{}," * (DECLARED - 1) + b"{}]}]}]}"
LOKI_PROTO_RAW = field(1, field(1, b'{service_name="s"}') + EMPTY_RECORDS)  # streams { labels, entries {} x N }
LOKI_PROTO = bytes(cramjam.snappy.compress_raw(LOKI_PROTO_RAW))
LOKI_JSON = b'{"streams":[{"stream":{},"values":[' + b"[]," * (DECLARED - 1) + b"[]]}]}"
NDJSON = b"{}\n" * DECLARED


@pytest.fixture(autouse=True)
def _bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoded, "MAX_RECORDS_PER_BODY", 10_000)


def peak_while(action: Callable[[], Any]) -> tuple[Any, int]:
    """What ``action`` returned or raised, and the most memory it had allocated at once."""
    tracemalloc.start()
    try:
        outcome: Any = action()
    except Exception as error:  # the refusal is the outcome under test
        outcome = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome, peak


@pytest.mark.parametrize(("name", "decode", "body", "reason"), [
    ("OTLP protobuf", decode_otlp_proto, OTLP_PROTO, "too_many_records"),
    ("OTLP JSON", decode_otlp_json, OTLP_JSON, "too_large"),
    ("Loki JSON", lambda body: decode_loki_json(body, LOKI_LABELS), LOKI_JSON, "too_large"),
    ("NDJSON", decode_ndjson, NDJSON, "too_many_records"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_a_body_declaring_millions_of_empty_records_is_refused_without_building_them(
        name: str, decode: Callable[[bytes], Any], body: bytes, reason: str) -> None:
    outcome, peak = peak_while(lambda: decode(body))
    assert isinstance(outcome, BodyTooLarge) and outcome.reason.startswith(reason), outcome
    assert peak < BOUND, f"{name}: {len(body) / MIB:.1f} MiB body, refusing it took {peak / MIB:.1f} MiB"


def test_a_record_declaring_millions_of_empty_attributes_is_rejected_alone_without_being_parsed() -> None:
    attributes = b"\x32\x00" * DECLARED  # LogRecord field 6, an empty KeyValue: parsing built an object each
    body = field(1, field(2, field(2, attributes) + field(2, field(5, b"\x0a\x02ok"))))
    outcome, peak = peak_while(lambda: decode_otlp_proto(body))
    assert [r.reason.split(":")[0] for r in outcome.rejected] == ["oversized"] and len(outcome.records) == 1
    assert peak < len(body) + BOUND, "the rejected record's own bytes (for the dead letter), no more"


def test_a_loki_entry_declaring_millions_of_metadata_pairs_is_rejected_alone() -> None:
    kept = EntryAdapter(line=b"kept", timestamp=Timestamp(seconds=int(time.time()))).SerializeToString()
    entries = [field(2, b"\x1a\x00" * DECLARED), field(2, b"\x1a\x00" * 600_000), field(2, kept)]
    raw = field(1, field(1, b'{service_name="s"}') + b"".join(entries))
    body = bytes(cramjam.snappy.compress_raw(raw))
    outcome, peak = peak_while(lambda: decode_loki_proto(body, LOKI_LABELS, 20 * MIB))
    assert [r.reason.split(":")[0] for r in outcome.rejected] == ["oversized", "bad_labels"], outcome.rejected
    assert len(outcome.records) == 1 and peak < len(raw) + BOUND


def test_a_snappy_loki_body_is_held_at_its_declared_length_and_its_entries_counted_before_they_are_built() -> None:
    held: list[int] = []
    outcome, peak = peak_while(lambda: decode_loki_proto(LOKI_PROTO, LOKI_LABELS, 20 * MIB, hold=held.append))
    assert isinstance(outcome, BodyTooLarge) and outcome.reason.startswith("too_many_records"), outcome
    assert held == [len(LOKI_PROTO_RAW)], "the decompressed bytes count against the in-flight bound first"
    assert peak < len(LOKI_PROTO_RAW) + BOUND, f"{len(LOKI_PROTO_RAW) / MIB:.1f} MiB decompressed, {peak / MIB:.1f}"


@pytest.mark.parametrize("value", [OTLP_PROTO, OTLP_JSON], ids=["otlp_proto", "otlp_json"])
def test_a_batch_on_kafka_beyond_the_bound_is_one_dead_letter_with_a_reason(value: bytes) -> None:
    def expand() -> list[tuple[int | None, Any]]:
        return list(records_of(value, now=1_800_000_000.0))

    outcome, peak = peak_while(expand)
    assert isinstance(outcome, list) and len(outcome) == 1, outcome
    (index, letter), = outcome
    assert index is None and isinstance(letter, Rejected) and letter.raw is value
    assert letter.reason.startswith(("too_many_records", "too_large")), letter.reason
    assert peak < BOUND, f"{len(value) / MIB:.1f} MiB value, {peak / MIB:.1f} MiB to refuse it"


def test_decoded_bytes_are_held_as_they_are_built() -> None:
    held: list[int] = []
    lines = b"\n".join(b'{"level": "ERROR", "service": "s", "message": "m%d"}' % n for n in range(2_000))
    result = decode_ndjson(lines, hold=held.append)
    assert sum(held) >= len(lines) and len(result.records) == 2_000
    held.clear()
    otlp = field(1, field(2, b"".join(field(2, field(5, b"\x0a\x02hi")) for _ in range(2_000))))
    result = decode_otlp_proto(otlp, hold=held.append)
    assert sum(held) == sum(len(value) for _service, value in result.records) and len(held) > 1, "in steps"


def test_the_record_bound_itself_still_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoded, "MAX_RECORDS_PER_BODY", 1000)  # mapping records takes its time: fewer here
    at_bound = field(1, field(2, b"\x12\x00" * 1000))
    assert len(decode_otlp_proto(at_bound).rejected) + len(decode_otlp_proto(at_bound).records) == 1000
    with pytest.raises(BodyTooLarge):
        decode_otlp_proto(field(1, field(2, b"\x12\x00" * 1001)))


@pytest.mark.parametrize("data", [b"\x12", b"\x12\x05\x00", b"\x0b", b"\x00\x00", b"\x12" + b"\xff" * 11])
def test_wire_that_a_parser_would_refuse_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedWire):
        list(length_delimited(data))


def test_the_json_estimate_is_at_least_what_parsing_the_hostile_shapes_takes() -> None:
    shapes = (OTLP_JSON[:60_000] + b"{}]}]}]}", b"[" + b'{"a":1},' * 20_000 + b"0]", b"[" + b"[0]," * 20_000 + b"0]")
    for body in shapes:
        _parsed, peak = peak_while(lambda body=body: decoded.orjson.loads(body))
        assert json_parse_cost(body) >= 0.9 * peak, (body[:20], json_parse_cost(body), peak)
