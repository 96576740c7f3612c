"""``logmonitor move-state``: move state counted before home partitions to each service's home partition, once.

Run with every worker of the app stopped, after the old version and before this one
(README, "Upgrading from a version before home partitions"). For each table with cells per
service it reads the changelog, writes each service's value to its home partition
(``pipeline/tables/state_move.py`` decides it from every partition's copy), then rewrites every
partition that held copies of other homes' keys without them: its own keys' values appended
again, and everything before them deleted (Kafka's DeleteRecords). A tombstone would not do: a
worker's ``memory://`` store holds one value per key for all its partitions, and a tombstone in
one partition applied after the home's value deletes the key.

Every step can be interrupted and the command run again: the home's values are written (and
acknowledged) before anything is deleted, and merging a copy the home's value holds changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import click
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.errors import KafkaError

from logmonitor.pipeline.tables.cells import Cell
from logmonitor.pipeline.tables.state_move import MOVED_TABLES, moves
from logmonitor.server.topic_admin import ConfigRefused, records_deletable
from logmonitor.settings import ConfigError, Settings

__all__ = ["move_state"]

Log = dict[int, dict[bytes, bytes]]  # by partition: each key's latest value (raw), deleted keys left out


@click.command(name="move-state")
@click.option("--dry-run", is_flag=True, help="Say what would move; change nothing.")
def move_state(dry_run: bool) -> None:
    """Move state counted before home partitions to each service's home partition (workers stopped; once)."""
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    try:
        for line in asyncio.run(_move(settings, dry_run)):
            click.echo(line)
    except ConfigRefused as refused:
        raise click.ClickException(f"{refused}; run the command again once it is allowed") from None
    except KafkaError as error:
        raise click.ClickException(f"Kafka at {settings.bootstrap_servers}: {error!r}; run the command again") from None


async def _move(settings: Settings, dry_run: bool) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, **settings.security.aiokafka_options())
    await admin.start()
    try:
        await _refuse_running_workers(admin, settings.app_id)
        lines = []
        for table in MOVED_TABLES:
            topic = f"{settings.app_id}-{table}-changelog"
            log = await _read(settings, topic, await _partitions(admin, topic))
            writes = moves(table, _copies(log), len(log)) if log else []
            moved = sum(write.value is not None for write in writes)
            lines.append(f"{topic}: {moved} cells to their home partition, {len(writes) - moved} copies deleted"
                         + (" (dry run)" if dry_run else ""))
            if writes and not dry_run:
                await _produce(settings, topic, [(write.partition, write.key, orjson.dumps(write.value))
                                                 for write in writes if write.value is not None])
                gone = {(write.partition, write.key) for write in writes if write.value is None}
                await _rewrite_without(settings, admin, topic, gone)
        return lines
    finally:
        await admin.close()


async def _refuse_running_workers(admin: AIOKafkaAdminClient, app_id: str) -> None:
    (described,) = await admin.describe_consumer_groups([app_id])
    members = [member for group in described.groups for member in group[5]]  # (error, id, state, type, proto, members)
    if members:
        raise click.ClickException(f"{len(members)} worker(s) of {app_id} are running: stop every worker first")


def _copies(log: Log) -> dict[bytes, dict[int, Cell]]:
    copies: dict[bytes, dict[int, Cell]] = {}
    for partition, values in log.items():
        for key, value in values.items():
            copies.setdefault(key, {})[partition] = orjson.loads(value)
    return copies


def _consumer(settings: Settings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
                            **settings.security.aiokafka_options())


async def _partitions(admin: AIOKafkaAdminClient, topic: str) -> int:
    """How many partitions ``topic`` has (0: there is no such topic)."""
    (described,) = await admin.describe_topics([topic])
    return 0 if described.get("error_code") else len(described.get("partitions") or ())


async def _read(settings: Settings, topic: str, partitions: int) -> Log:
    """Every partition's latest value of each key of ``topic`` (empty if it has no partitions)."""
    if not partitions:
        return {}
    consumer = _consumer(settings)
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        log: Log = {tp.partition: {} for tp in assigned}
        pending = {tp for tp in assigned if ends[tp] > await consumer.position(tp)}
        while pending:
            for tp, records in (await consumer.getmany(*pending, timeout_ms=1000)).items():
                for record in records:
                    if record.value is None:
                        log[tp.partition].pop(record.key, None)
                    else:
                        log[tp.partition][record.key] = record.value
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        return log
    finally:
        await consumer.stop()


async def _produce(settings: Settings, topic: str, records: Iterable[tuple[int, bytes, bytes]]) -> int:
    """Write ``(partition, key, value)`` records and wait until each is acknowledged; how many."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", enable_idempotence=True,
                                max_request_size=8 * 1024 * 1024, **settings.security.aiokafka_options())
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key, partition=partition) for partition, key, value in records]
        return len([await delivery for delivery in sent])
    finally:
        await producer.stop()


async def _rewrite_without(settings: Settings, admin: AIOKafkaAdminClient, topic: str,
                           gone: set[tuple[int, bytes]]) -> None:
    """Leave in each partition named in ``gone`` only its other keys: appended again, everything before deleted."""
    log = await _read(settings, topic, await _partitions(admin, topic))  # as it is now, the home's values written
    for partition in sorted({partition for partition, _key in gone}):
        kept = [(partition, key, value) for key, value in log[partition].items() if (partition, key) not in gone]
        consumer = _consumer(settings)
        await consumer.start()
        try:
            tp = TopicPartition(topic, partition)
            start = (await consumer.end_offsets([tp]))[tp]
        finally:
            await consumer.stop()
        await _produce(settings, topic, kept)
        async with records_deletable(admin, topic):
            await admin.delete_records({TopicPartition(topic, partition): RecordsToDelete(before_offset=start)})
