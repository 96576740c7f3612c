"""What aiokafka's admin client answers to DescribeConfigs and AlterConfigs, by name instead of by position.

Why: ``AIOKafkaAdminClient.describe_configs``/``alter_configs`` hand back the raw protocol
responses, whose resources and config entries are plain tuples; their fields are known only by
their position in the protocol schema.

Verified against aiokafka 0.14.0 (``aiokafka/protocol/admin.py``). It assumes, of
``DescribeConfigsResponse`` v1 and v2 (the versions brokers since Kafka 1.1 answer with), that each
of ``response.resources`` is ``(error_code, error_message, resource_type, resource_name,
config_entries)`` and each config entry starts ``(config_names, config_value, read_only,
config_source)``; of ``AlterConfigsResponse``, that each resource is ``(error_code,
error_message, resource_type, resource_name)``. ``tests/unit/engine/test_admin_responses.py``
compares these positions with the schemas.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

__all__ = ["ResourceOutcome", "TopicConfig", "altered_configs", "described_configs"]

TopicConfig = dict[str, tuple[str, int]]  # setting name: (value, config_source)


class ResourceOutcome(NamedTuple):
    """One resource's part of an answer: an error code (0: none), its message, and the resource's name."""

    code: int
    message: str | None
    name: str


def described_configs(answers: Iterable[Any]) -> Iterator[tuple[ResourceOutcome, TopicConfig]]:
    """Each resource of DescribeConfigs answers, with its settings as ``name: (value, config_source)``."""
    for answer in answers:
        for code, message, _type, name, entries in answer.resources:
            yield ResourceOutcome(code, message, name), {entry[0]: (entry[1], entry[3]) for entry in entries}


def altered_configs(answers: Iterable[Any]) -> Iterator[ResourceOutcome]:
    """Each resource of AlterConfigs answers."""
    for answer in answers:
        for code, message, _type, name in answer.resources:
            yield ResourceOutcome(code, message, name)
