"""Contract of the admin responses hook with aiokafka's protocol schemas (aiokafka 0.14.0)."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol import admin as protocol

from logmonitor.engine.admin_responses import ResourceOutcome, altered_configs, described_configs
from tests.unit.engine.signatures import bare_signature

DESCRIBED_RESOURCE = ["error_code", "error_message", "resource_type", "resource_name", "config_entries"]
ALTERED_RESOURCE = ["error_code", "error_message", "resource_type", "resource_name"]


def fields(schema: object, name: str) -> list[str]:
    """The field names of the array ``name`` in a protocol schema."""
    field = dict(zip(schema.names, schema.fields, strict=True))[name]  # type: ignore[attr-defined]
    return list(field.array_of.names)


def test_the_admin_client_methods_have_the_verified_signatures() -> None:
    assert bare_signature(AIOKafkaAdminClient.describe_configs) == "(self, config_resources, include_synonyms=False)"
    assert bare_signature(AIOKafkaAdminClient.alter_configs) == "(self, config_resources)"


@pytest.mark.parametrize("response", [protocol.DescribeConfigsResponse_v1, protocol.DescribeConfigsResponse_v2])
def test_describe_configs_positions_are_the_schemas(response: type) -> None:
    assert fields(response.SCHEMA, "resources") == DESCRIBED_RESOURCE
    resource = dict(zip(response.SCHEMA.names, response.SCHEMA.fields, strict=True))["resources"].array_of
    assert fields(resource, "config_entries")[:4] == ["config_names", "config_value", "read_only", "config_source"]


@pytest.mark.parametrize("response", [protocol.AlterConfigsResponse_v0, protocol.AlterConfigsResponse_v1])
def test_alter_configs_positions_are_the_schemas(response: type) -> None:
    assert fields(response.SCHEMA, "resources") == ALTERED_RESOURCE


def test_a_real_response_reads_by_name() -> None:
    entry = ("retention.ms", "3600000", False, 1, False, [])
    described = protocol.DescribeConfigsResponse_v2(0, [(0, None, 2, "logs", [entry]), (29, "denied", 2, "dlq", [])])
    assert list(described_configs([described])) == [
        (ResourceOutcome(0, None, "logs"), {"retention.ms": ("3600000", 1)}),
        (ResourceOutcome(29, "denied", "dlq"), {}),
    ]
    altered = protocol.AlterConfigsResponse_v1(0, [(0, None, 2, "logs")])
    assert list(altered_configs([altered])) == [ResourceOutcome(0, None, "logs")]
