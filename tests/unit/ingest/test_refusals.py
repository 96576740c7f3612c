"""Refusals in each protocol's shape: OTLP clients read a google.rpc.Status, the rest our JSON error."""

from __future__ import annotations

import orjson
from aiohttp.test_utils import make_mocked_request
from google.rpc.status_pb2 import Status

from logmonitor.ingest.refusals import Refusal, refusal_response


def test_otlp_protobuf_requests_get_a_protobuf_status_with_retry_after() -> None:
    request = make_mocked_request("POST", "/v1/logs", headers={"Content-Type": "application/x-protobuf"})
    response = refusal_response(request, Refusal(503, "kafka_unavailable", "Kafka is away" * 20, retry_after=5))
    assert (response.status, response.content_type, response.headers["Retry-After"]) == (
        503, "application/x-protobuf", "5")
    assert isinstance(response.body, bytes)
    status = Status.FromString(response.body)
    assert (status.code, status.message) == (14, "kafka_unavailable: " + "Kafka is away" * 20)


def test_otlp_json_requests_get_a_json_status() -> None:
    request = make_mocked_request("POST", "/v1/logs", headers={"Content-Type": "application/json"})
    response = refusal_response(request, Refusal(400, "not_json", "unexpected character"))
    assert response.content_type == "application/json" and isinstance(response.body, bytes)
    assert orjson.loads(response.body) == {"code": 3, "message": "not_json: unexpected character"}


def test_other_routes_get_the_apis_json_error() -> None:
    request = make_mocked_request("POST", "/loki/api/v1/push", headers={"Content-Type": "application/x-protobuf"})
    response = refusal_response(request, Refusal.from_reason(413, "too_many_records: at most 100000"))
    assert response.status == 413 and isinstance(response.body, bytes)
    assert orjson.loads(response.body) == {"error": "too_many_records", "detail": "at most 100000"}
