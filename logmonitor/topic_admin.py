"""Create the project's topics with their partition count and retention, and change retention."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from logmonitor.settings import ConfigError, Settings

__all__ = ["MAX_MESSAGE_BYTES", "changelog_specs", "ensure_topics", "read_retention", "set_retention", "topic_specs"]

# Oversized records (over 1 MiB) must reach the router to be dead-lettered with a reason,
# not be refused by the broker where nobody sees them; the DLQ carries them whole.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
TICKS_RETENTION = timedelta(hours=1)


def topic_specs(settings: Settings) -> list[NewTopic]:
    """The topics of DESIGN section 3 with the configured partitions and retention, and the ticks topic."""
    kept = {**settings.topic_retention(), settings.ticks_topic: TICKS_RETENTION}
    return [
        NewTopic(
            name,
            settings.partitions,
            settings.replication_factor,
            topic_configs={
                "retention.ms": str(int(retention.total_seconds() * 1000)),
                "max.message.bytes": str(MAX_MESSAGE_BYTES),
            },
        )
        for name, retention in kept.items()
    ]


def changelog_specs(tables: Iterable[Any], settings: Settings) -> list[NewTopic]:
    """The Faust tables' changelog topics, configured exactly as Faust would create them.

    Creating them ourselves, before the consumer subscribes, and waiting until every partition
    has a leader avoids a race on first start: a changelog created moments before the consumer
    group's metadata snapshot shows 0 partitions there, and Faust then refuses every table write
    (PartitionsMismatch) until the next metadata refresh, minutes later.
    """
    specs = []
    for table in tables:
        topic = table.changelog_topic
        config: dict[str, str] = {}
        policies = [name for name, wanted in (("compact", topic.compacting), ("delete", topic.deleting)) if wanted]
        if policies:
            config["cleanup.policy"] = ",".join(policies)
        if topic.retention:
            config["retention.ms"] = str(int(float(topic.retention) * 1000))
        config.update({key: str(value) for key, value in (topic.config or {}).items()})
        specs.append(NewTopic(topic.get_topic_name(), topic.partitions or settings.partitions,
                              settings.replication_factor, topic_configs=config))
    return specs


def _admin(settings: Settings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, **settings.security.aiokafka_options()
    )


async def _wait_for_leaders(admin: AIOKafkaAdminClient, specs: list[NewTopic], timeout: float = 30.0) -> None:
    """Return once every partition of ``specs`` has a leader (new topics take a moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        descriptions = await admin.describe_topics([spec.name for spec in specs])
        ready = {
            d["topic"] for d in descriptions
            if d["partitions"] and all(p["leader"] >= 0 for p in d["partitions"])
        }
        if ready >= {spec.name for spec in specs}:
            return
        await asyncio.sleep(0.1)


async def ensure_topics(settings: Settings, extra: Iterable[NewTopic] = ()) -> list[str]:
    """Create the missing topics (and ``extra`` ones); check the partition count of existing ones.

    Returns:
        The names of the topics that were created.

    Raises:
        ConfigError: an existing topic's partition count differs from ``LOGMONITOR_PARTITIONS``
            (Faust needs source and changelog partition counts to match).
    """
    admin = _admin(settings)
    await admin.start()
    try:
        specs = topic_specs(settings) + list(extra)
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker was first
                await admin.create_topics(missing)
            await _wait_for_leaders(admin, missing)
        present = [spec.name for spec in specs if spec.name in existing]
        for description in await admin.describe_topics(present) if present else []:
            count = len(description["partitions"])
            if count != settings.partitions:
                raise ConfigError(
                    f"topic {description['topic']!r} has {count} partitions but "
                    f"LOGMONITOR_PARTITIONS={settings.partitions}: set LOGMONITOR_PARTITIONS="
                    f"{count}, or re-partition as docs/operations.md describes"
                )
        return [spec.name for spec in missing]
    finally:
        await admin.close()


async def read_retention(settings: Settings) -> dict[str, timedelta]:
    """Each project topic's current ``retention.ms`` on the cluster."""
    admin = _admin(settings)
    await admin.start()
    try:
        names = list(settings.topic_retention())
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        responses = await admin.describe_configs(resources)
        retention: dict[str, timedelta] = {}
        for response in responses:
            for _code, _msg, _type, topic, entries in response.resources:
                for entry in entries:
                    if entry[0] == "retention.ms":
                        retention[topic] = timedelta(milliseconds=int(entry[1]))
        return retention
    finally:
        await admin.close()


async def set_retention(settings: Settings, topic: str, retention: timedelta) -> None:
    """Set ``retention.ms`` of one topic on the cluster."""
    admin = _admin(settings)
    await admin.start()
    try:
        resource = ConfigResource(
            ConfigResourceType.TOPIC,
            topic,
            configs={"retention.ms": str(int(retention.total_seconds() * 1000))},
        )
        await admin.alter_configs([resource])
    finally:
        await admin.close()
