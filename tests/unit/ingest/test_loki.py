"""Loki push to records: JSON and snappy protobuf, service and level from labels or the line, metadata, bounds."""

from __future__ import annotations

import time
from typing import Any

import cramjam
import orjson
import pytest

from logmonitor.ingest.decoded import Decoded, UndecodableBody
from logmonitor.ingest.loki import BodyTooLarge, declared_length, decode_loki_json, decode_loki_proto, level_of_line
from logmonitor.ingest.loki_labels import MAX_LABELS
from logmonitor.ingest.loki_push import EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp
from logmonitor.ingest.settings import LokiLabels
from logmonitor.timestamps import iso_timestamp

SERVICE_LABELS = LokiLabels()
NANOS = (int(time.time()) - 60) * 1_000_000_000 + 5_000_000
ENCODINGS = ("json", "proto")


def labels_text(labels: dict[str, str]) -> bytes:
    return ("{" + ", ".join(f'{name}="{value}"' for name, value in labels.items()) + "}").encode()


def push(streams: list[tuple[dict[str, str], list[tuple[int, str, dict[str, str]]]]], encoding: str) -> Decoded:
    """Push ``(labels, [(nanos, line, metadata)])`` streams in ``encoding``."""
    if encoding == "json":
        body = orjson.dumps({"streams": [
            {"stream": labels, "values": [[str(nanos), line, *([metadata] if metadata else [])]
                                          for nanos, line, metadata in entries]}
            for labels, entries in streams]})
        return decode_loki_json(body, SERVICE_LABELS)
    request = PushRequest(streams=[StreamAdapter(labels=labels_text(labels), entries=[
        EntryAdapter(timestamp=Timestamp(seconds=nanos // 10**9, nanos=nanos % 10**9), line=line.encode(),
                     structuredMetadata=[LabelPairAdapter(name=k.encode(), value=v.encode())
                                         for k, v in metadata.items()])
        for nanos, line, metadata in entries]) for labels, entries in streams])
    return decode_loki_proto(bytes(cramjam.snappy.compress_raw(request.SerializeToString())), SERVICE_LABELS, 10**7)


def records(decoded: Decoded) -> list[dict[str, Any]]:
    assert decoded.rejected == []
    return [orjson.loads(value) for _key, value in decoded.records]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_an_entry_maps_labels_line_time_and_metadata(encoding: str) -> None:
    [record] = records(push([({"app": "shop", "job": "ignored", "level": "warn", "zone": "a", "host": "web-1",
                               "logger": "shop.cart"},
                              [(NANOS, "cart is slow", {"trace_id": "abc123", "user": "ann", "zone": "b"})])],
                            encoding))
    assert len(record.pop("id")) == 32
    assert record == {
        "timestamp": iso_timestamp(NANOS / 1e9), "level": "WARNING", "service": "shop", "message": "cart is slow",
        "host": "web-1", "logger": "shop.cart", "trace_id": "abc123",
        "extra": {"job": "ignored", "zone": "b", "user": "ann"},
    }, "the first present service label; an entry's metadata wins over its stream's labels"


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("labels", "service"), [
    ({"service_name": "a", "service": "b", "app": "c", "job": "d"}, "a"), ({"job": "d", "app": "c"}, "c"),
    ({"service": "", "job": "d"}, "d"), ({"env": "prod"}, "unknown_service")])
def test_the_service_is_the_first_present_service_label(encoding: str, labels: dict[str, str], service: str) -> None:
    assert records(push([(labels, [(NANOS, "m", {})])], encoding))[0]["service"] == service


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("labels", "line", "level"), [
    ({"level": "error"}, "level=debug", "ERROR"), ({"detected_level": "warn"}, "x", "WARNING"),
    ({"severity": "critical"}, "x", "CRITICAL"), ({"level": "unknown"}, "x", "INFO"),
    ({}, '{"msg": "x", "severity": "ERROR"}', "ERROR"), ({}, '{"lvl": "debug"}', "DEBUG"),
    ({}, 'ts=1 level=warn msg="disk low"', "WARNING"), ({}, 'msg="x" lvl="error"', "ERROR"),
    ({}, "mylevel=error msg=x", "INFO"), ({}, "just text", "INFO"), ({}, "{not json level=error", "INFO")])
def test_the_level_comes_from_a_label_else_a_json_or_logfmt_line_else_info(
        encoding: str, labels: dict[str, str], line: str, level: str) -> None:
    assert records(push([({"app": "a", **labels}, [(NANOS, line, {})])], encoding))[0]["level"] == level


def test_the_line_level_scan_is_bounded_and_never_fails() -> None:
    assert level_of_line(" " * 10_000 + "level=error") is None, "logfmt puts its level near the start"
    assert level_of_line("{" * 10_000) is None
    assert level_of_line('{"level": 5}') is None


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_bad_entry_is_rejected_alone(encoding: str) -> None:
    result = push([({"app": "a"}, [(NANOS, "kept", {}), (10**15, "too old", {}), (NANOS, "x" * (1024 * 1024), {})])],
                  encoding)
    assert [orjson.loads(value)["message"] for _key, value in result.records] == ["kept"]
    assert [rejected.reason.split(":")[0] for rejected in result.rejected] == ["stale_timestamp", "oversized"]


def test_json_entries_of_the_wrong_shape_are_rejected_with_a_reason() -> None:
    body = orjson.dumps({"streams": [{"stream": {"app": "a"}, "values": [
        [str(NANOS), "ok"], [str(NANOS)], ["soon", "x"], [str(NANOS), 5], [str(NANOS), "x", {"k": 1}], "nope"]}]})
    result = decode_loki_json(body, SERVICE_LABELS)
    assert len(result.records) == 1
    assert [rejected.reason.split(":")[0] for rejected in result.rejected] == [
        "bad_entry", "bad_timestamp", "bad_message", "bad_labels", "bad_entry"]


def test_json_stream_labels_that_are_not_strings_reject_the_streams_entries() -> None:
    body = orjson.dumps({"streams": [{"stream": {"app": 5}, "values": [[str(NANOS), "a"], [str(NANOS), "b"]]},
                                     {"stream": {"app": "ok"}, "values": [[str(NANOS), "c"]]}]})
    result = decode_loki_json(body, SERVICE_LABELS)
    assert len(result.records) == 1 and [r.reason.split(":")[0] for r in result.rejected] == ["bad_labels"] * 2


def test_too_many_labels_reject_the_streams_entries() -> None:
    many = {f"l{i}": "v" for i in range(MAX_LABELS + 1)}
    result = push([(many, [(NANOS, "a", {})])], "proto")
    assert result.records == [] and result.rejected[0].reason.startswith("bad_labels")


def test_protobuf_labels_that_do_not_parse_reject_the_streams_entries_and_keep_the_others() -> None:
    request = PushRequest(streams=[
        StreamAdapter(labels=b'{app="unterminated', entries=[EntryAdapter(line=b"a"), EntryAdapter(line=b"b")]),
        StreamAdapter(labels=b'{app="fine"}', entries=[EntryAdapter(
            timestamp=Timestamp(seconds=NANOS // 10**9), line=b"not utf-8 \xff")])])
    result = decode_loki_proto(bytes(cramjam.snappy.compress_raw(request.SerializeToString())), SERVICE_LABELS, 10**6)
    assert [orjson.loads(value)["message"] for _key, value in result.records] == ["not utf-8 \ufffd"]
    assert [rejected.reason.split(":")[0] for rejected in result.rejected] == ["bad_labels", "bad_labels"]
    assert orjson.loads(result.rejected[0].raw) == {"labels": '{app="unterminated', "entry": {"ts": "0", "line": "a"}}


def test_a_snappy_body_declaring_more_than_the_limit_is_refused_before_decompressing() -> None:
    body = bytes(cramjam.snappy.compress_raw(b"\0" * 100_000))
    assert declared_length(body) == 100_000
    with pytest.raises(BodyTooLarge, match="too_large"):
        decode_loki_proto(body, SERVICE_LABELS, 99_999)
    bomb = b"\xff\xff\xff\xff\x0f" + b"\0" * 10  # declares 4 GiB
    with pytest.raises(BodyTooLarge):
        decode_loki_proto(bomb, SERVICE_LABELS, 10**7)


@pytest.mark.parametrize("body", [b"", b"\xff\xff\xff\xff\xff\xff", b"\x05abc", b"\x10" + b"\x00" * 16])
def test_a_body_that_is_no_snappy_push_request_is_undecodable(body: bytes) -> None:
    with pytest.raises(UndecodableBody):
        decode_loki_proto(body, SERVICE_LABELS, 10**6)


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"streams": 5}', b'{"streams": [{"values": 3}]}', b'{"streams": [7]}'])
def test_a_body_that_is_no_loki_json_push_is_undecodable(body: bytes) -> None:
    with pytest.raises(UndecodableBody):
        decode_loki_json(body, SERVICE_LABELS)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_release_and_environment_come_from_labels_or_metadata_first_present_wins(encoding: str) -> None:
    [labelled, from_metadata, blank] = records(push([
        ({"app": "shop", "version": "1.0", "release": "2.0", "env": "prod"}, [(NANOS, "a", {})]),
        ({"app": "shop"}, [(NANOS, "b", {"service_version": "3.0", "deployment_environment": "qa"})]),
        ({"app": "shop", "release": " ", "environment": "e" * 300}, [(NANOS, "c", {})]),
    ], encoding))
    assert (labelled["release"], labelled["environment"], labelled["extra"]) == ("2.0", "prod", {"version": "1.0"})
    assert (from_metadata["release"], from_metadata["environment"], from_metadata["extra"]) == ("3.0", "qa", {})
    assert "release" not in blank and blank["extra"] == {"release": " "} and blank["environment"] == "e" * 256


def test_the_release_and_environment_labels_are_configurable() -> None:
    body = orjson.dumps({"streams": [{"stream": {"app": "shop", "git_sha": "abc123", "release": "no", "stage": "eu"},
                                      "values": [[str(NANOS), "m"]]}]})
    [record] = records(decode_loki_json(body, LokiLabels(release=("git_sha",), environment=("stage",))))
    assert (record["release"], record["environment"], record["extra"]) == ("abc123", "eu", {"release": "no"})
