"""Appending the events of API commands to Kafka (the system of record)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from cdrflow.settings import Settings
from streams.publisher import producer


class KafkaAppender:
    """One producer for the app's lifetime, started at the first write (reads need no
    Kafka); `append` returns once the broker has the event (acks=all), so an `ok`
    answer means the change is recorded."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def stop(self) -> None:
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None

    async def append(self, topic: str, key: bytes, value: bytes) -> int | None:
        async with self._lock:
            if self._producer is None:
                started = producer(self.settings)
                await started.start()
                self._producer = started
        sent = await self._producer.send_and_wait(self.settings.topic(topic), value, key)
        return int(sent.offset)
