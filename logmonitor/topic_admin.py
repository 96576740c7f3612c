"""Create the project's topics with their partition count and retention, and change retention."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from logmonitor.settings import ConfigError, Settings

__all__ = ["MAX_MESSAGE_BYTES", "ensure_topics", "read_retention", "set_retention", "topic_specs"]

# Oversized records (over 1 MiB) must reach the router to be dead-lettered with a reason,
# not be refused by the broker where nobody sees them; the DLQ carries them whole.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


def topic_specs(settings: Settings) -> list[NewTopic]:
    """The topics of DESIGN section 3 with the configured partitions and retention."""
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
        for name, retention in settings.topic_retention().items()
    ]


def _admin(settings: Settings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, **settings.security.aiokafka_options()
    )


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the missing topics; check that existing ones have the configured partition count.

    Returns:
        The names of the topics that were created.

    Raises:
        ConfigError: an existing topic's partition count differs from ``LOGMONITOR_PARTITIONS``
            (Faust needs source and changelog partition counts to match).
    """
    admin = _admin(settings)
    await admin.start()
    try:
        specs = topic_specs(settings)
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker was first
                await admin.create_topics(missing)
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
