"""Topic names and their creation (partitions and retention are settings)."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from cdrflow.settings import Settings

log = logging.getLogger(__name__)

CALL_EVENTS = "call-events"
ACCOUNT_EVENTS = "account-events"
TARIFF_EVENTS = "tariff-events"
CDRS = "cdrs"
DEAD_LETTERS = "dead-letters"
CALLBACK_REQUESTS = "callback-requests"
FAXES = "faxes"  # valid fax_received events, forwarded by the worker (docs/faxes.md)
ACTIVE_CALLS = "active-calls"  # live call states and tombstones (docs/active_calls.md)
CALL_END_WEBHOOKS = "call-end-webhooks"  # CDRs to post, keyed by device (docs/webhooks.md)
ALL = (CALL_EVENTS, ACCOUNT_EVENTS, TARIFF_EVENTS, CDRS, DEAD_LETTERS, CALLBACK_REQUESTS, FAXES,
       ACTIVE_CALLS, CALL_END_WEBHOOKS)


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [settings.topic(name) for name in ALL]
        missing = [name for name in wanted if name not in existing]
        if missing:
            try:
                await admin.create_topics([
                    NewTopic(name, num_partitions=settings.partitions, replication_factor=1)
                    for name in missing
                ])
            except TopicAlreadyExistsError:
                pass  # another process created them first
            log.info("kafka: created topics %s", ", ".join(missing))
        return missing
    finally:
        await admin.close()


async def partitions_of(settings: Settings, *names: str) -> list[TopicPartition]:
    """Every partition of the given topics (full names); raises if one does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        found = []
        for topic in await admin.describe_topics(list(names)):
            if topic["error_code"] or not topic["partitions"]:
                raise LookupError(f"kafka: topic {topic['topic']} does not exist")
            found += [TopicPartition(topic["topic"], p["partition"])
                      for p in topic["partitions"]]
        return sorted(found)
    finally:
        await admin.close()


async def read_all(settings: Settings, name: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a topic (short name), from the beginning to its end right now,
    partition by partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await partitions_of(settings, settings.topic(name))
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        for tp in partitions:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                records += batch.get(tp, [])
        return records
    finally:
        await consumer.stop()


async def group_lag(settings: Settings, group: str, topic: str) -> int:
    """Messages of `topic` (short name) that consumer group `group` has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    await consumer.start()
    try:
        partitions = await partitions_of(settings, settings.topic(topic))
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        return sum(ends[tp] - (committed[tp].offset if tp in committed and
                               committed[tp].offset >= 0 else 0) for tp in partitions)
    finally:
        await consumer.stop()
        await admin.close()
