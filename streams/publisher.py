"""Appending events to topics (reference data from the CLI, call events from the simulator)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer

from cdrflow.settings import Settings
from streams.topics import ensure_topics


def producer(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=262_144,
    )


def publish_now(settings: Settings, topic: str, records: Iterable[tuple[bytes, bytes]]) -> int:
    """`publish` for a command, outside any event loop: the topics are created first when
    missing (a fresh installation), then every record is sent and acknowledged."""

    async def run() -> int:
        await ensure_topics(settings)
        return await publish(settings, topic, records)

    return asyncio.run(run())


async def publish(settings: Settings, topic: str,
                  records: Iterable[tuple[bytes, bytes]]) -> int:
    """Send (key, value) records to one topic and wait until all are acknowledged."""
    sent = 0
    async with producer(settings) as kafka:
        futures = [await kafka.send(settings.topic(topic), value, key) for key, value in records]
        for future in futures:
            await future
            sent += 1
    return sent
