"""Create the project's topics with their partition count and retention, and change retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code

from logmonitor.engine.admin_responses import ResourceOutcome, TopicConfig, altered_configs, described_configs
from logmonitor.settings import ConfigError, Settings

__all__ = [
    "MAX_MESSAGE_BYTES", "ConfigRefused", "changelog_specs", "ensure_topics", "read_retention", "records_deletable",
    "set_retention", "set_topic_config", "topic_specs",
]

log = logging.getLogger(__name__)

# Oversized records (over 1 MiB) must reach the router to be dead-lettered with a reason, not be
# refused by the broker where nobody sees them. Changelogs need the same room: one error of up
# to 1 MiB, normalised, is a ring chunk a little over Kafka's default limit.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
TICKS_RETENTION = timedelta(hours=1)
# Status commands are applied within moments, into a changelog-backed table; the topic only holds
# them until then (or until a stopped app starts again). Not compacted: keyed by service, compaction
# would keep one command per service and lose the others of a worker that is behind.
COMMANDS_RETENTION = timedelta(days=7)
# Forwarded records are read by their home partition's owner within moments of their forward (the
# same worker group reads both topics); a day covers a home that is hours behind.
REPARTITION_RETENTION = timedelta(days=1)
DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs' config_source of a value set on the topic itself


class ConfigRefused(RuntimeError):
    """The cluster refused to change a topic's configuration (its message says why)."""


def topic_specs(settings: Settings) -> list[NewTopic]:
    """The topics of DESIGN section 3 with the configured partitions and retention, the ticks and command topics."""
    kept = {**settings.topic_retention(), settings.ticks_topic: TICKS_RETENTION,
            settings.commands_topic: COMMANDS_RETENTION, settings.repartition_topic: REPARTITION_RETENTION}
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
        config = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
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

    Existing topics whose ``max.message.bytes`` is below ``MAX_MESSAGE_BYTES`` (changelogs an
    older version created) get it raised; if the cluster refuses, a warning says what to set.

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
        await _raise_message_limit(admin, present)
        return [spec.name for spec in missing]
    finally:
        await admin.close()


async def _raise_message_limit(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    if not topics:
        return
    try:
        configs = await _topic_configs(admin, topics)
        low = sorted(topic for topic, config in configs.items()
                     if int(config["max.message.bytes"][0]) < MAX_MESSAGE_BYTES)
        if low:
            raised = {topic: {"max.message.bytes": str(MAX_MESSAGE_BYTES)} for topic in low}
            await _change_topic_configs(admin, raised, configs)
            log.warning("raised max.message.bytes to %d on %s", MAX_MESSAGE_BYTES, ", ".join(low))
    except ConfigRefused as refused:
        log.warning("records near 1 MiB may be lost: give the project's topics max.message.bytes=%d (%s)",
                    MAX_MESSAGE_BYTES, refused)


async def _topic_configs(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, TopicConfig]:
    """Each topic's settings as ``name: (value, config_source)``.

    Raises:
        ConfigRefused: the cluster would not describe a topic.
    """
    answers = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic) for topic in topics])
    configs = {}
    for outcome, config in described_configs(answers):
        _check(outcome)
        configs[outcome.name] = config
    return configs


async def _change_topic_configs(admin: AIOKafkaAdminClient, changes: dict[str, dict[str, str]],
                                current: dict[str, TopicConfig]) -> None:
    """Change some settings of each topic and keep its others (AlterConfigs replaces them all).

    ``current`` holds each changed topic's settings as :func:`_topic_configs` reads them.

    Raises:
        ConfigRefused: the cluster refused a change (an ACL, an invalid value).
    """
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, topic, configs={
            **{name: value for name, (value, source) in current[topic].items() if source == DYNAMIC_TOPIC_CONFIG},
            **changed,
        })
        for topic, changed in changes.items()
    ]
    for outcome in altered_configs(await admin.alter_configs(resources)):
        _check(outcome)


def _check(outcome: ResourceOutcome) -> None:
    if outcome.code:
        raise ConfigRefused(f"{outcome.name}: {outcome.message or for_code(outcome.code).__name__}")


async def read_retention(settings: Settings) -> dict[str, timedelta]:
    """Each project topic's current ``retention.ms`` on the cluster.

    Raises:
        ConfigRefused: the cluster would not describe a topic (missing, or no right to).
    """
    admin = _admin(settings)
    await admin.start()
    try:
        configs = await _topic_configs(admin, list(settings.topic_retention()))
        return {topic: timedelta(milliseconds=int(config["retention.ms"][0])) for topic, config in configs.items()}
    finally:
        await admin.close()


async def set_retention(settings: Settings, topic: str, retention: timedelta) -> None:
    """Set ``retention.ms`` of one topic on the cluster, keeping its other settings.

    Raises:
        ConfigRefused: the cluster refused the change.
    """
    await set_topic_config(settings, topic, {"retention.ms": str(int(retention.total_seconds() * 1000))})


async def set_topic_config(settings: Settings, topic: str, changes: dict[str, str]) -> None:
    """Change some settings of one topic on the cluster, keeping its others.

    Raises:
        ConfigRefused: the cluster refused the change.
    """
    admin = _admin(settings)
    await admin.start()
    try:
        await _change_topic_configs(admin, {topic: changes}, await _topic_configs(admin, [topic]))
    finally:
        await admin.close()


_DELETABLE = {"cleanup.policy": "compact,delete", "retention.ms": "-1"}


@contextlib.asynccontextmanager
async def records_deletable(admin: AIOKafkaAdminClient, topic: str) -> AsyncIterator[None]:
    """``topic`` accepting DeleteRecords inside the block, its own settings again after.

    Kafka deletes records of a topic only if its cleanup policy includes ``delete``: a compacted
    changelog gets ``compact,delete`` with ``retention.ms`` -1 meanwhile, which keeps every record as
    compaction alone does; a run stopped inside the block leaves it so, and the next run restores it.

    Raises:
        ConfigRefused: the cluster refused a change.
    """
    current = (await _topic_configs(admin, [topic]))[topic]
    own = {name: value for name, (value, source) in current.items() if source == DYNAMIC_TOPIC_CONFIG}
    if all(own.get(name) == value for name, value in _DELETABLE.items()):  # left so by a run that stopped
        own = {name: value for name, value in own.items() if name != "retention.ms"} | {"cleanup.policy": "compact"}
    if "delete" in own.get("cleanup.policy", ""):
        yield
        return
    await _change_topic_configs(admin, {topic: _DELETABLE}, {topic: current})
    yield
    resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs=own)  # all of them: AlterConfigs replaces
    for outcome in altered_configs(await admin.alter_configs([resource])):
        _check(outcome)
