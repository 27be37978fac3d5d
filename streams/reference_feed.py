"""Keeps every worker's copy of the reference data (users, tariffs) up to date.

Each worker reads all partitions of `account-events` and `tariff-events` from the
beginning, without a consumer group, like a Kafka Streams global table. Rating waits
until the copy has caught up with the topics as they were when the worker started,
and asks for a fresh catch-up before it rejects a call for an unknown user or tariff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from cdrflow.settings import Settings
from rating.reference import ReferenceData
from streams.deadletters import json_object
from streams.topics import ACCOUNT_EVENTS, TARIFF_EVENTS, partitions_of

log = logging.getLogger(__name__)


class ReferenceFeed:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data = ReferenceData()
        self.ready = asyncio.Event()
        self.errors = 0
        self._consumer: AIOKafkaConsumer | None = None
        self._progress = asyncio.Condition()

    async def run(self) -> None:
        """Follow the topics until cancelled; a failure restarts the reading (events
        are upserts, so reading them again changes nothing)."""
        while True:
            try:
                await self._run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reference feed failed; reading again in 1 s")
                await asyncio.sleep(1)

    async def _run_once(self) -> None:
        topics = [self.settings.topic(ACCOUNT_EVENTS), self.settings.topic(TARIFF_EVENTS)]
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        self._consumer = consumer
        try:
            partitions = await partitions_of(self.settings, *topics)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            await self._follow(await consumer.end_offsets(partitions))
        finally:
            self._consumer = None
            await consumer.stop()

    async def catch_up(self, timeout: float = 10.0) -> None:
        """Return once every reference event published before this call is applied
        (or after `timeout` seconds, with a warning)."""
        consumer = self._consumer
        if consumer is None:
            return
        target = await consumer.end_offsets(list(consumer.assignment()))
        try:
            async with asyncio.timeout(timeout):
                while not await self._reached(consumer, target):
                    async with self._progress:
                        await self._progress.wait()
        except TimeoutError:
            log.warning("reference data did not catch up within %.0f s", timeout)

    async def _follow(self, initial_target: dict[TopicPartition, int]) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            if not self.ready.is_set() and await self._reached(consumer, initial_target):
                self._mark_ready()
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batches.values():
                for record in records:
                    self._apply(record.value, record.topic, record.offset)
            async with self._progress:
                self._progress.notify_all()

    def _apply(self, raw: bytes | None, topic: str, offset: int) -> None:
        try:
            self.data.apply(json_object(raw, "event"))
        except ValueError as exc:
            # The projector in the sink dead-letters it; here it is only skipped.
            self.errors += 1
            log.warning("reference event %s@%s skipped: %s", topic, offset, exc)

    def _mark_ready(self) -> None:
        data = self.data
        log.info(
            "reference data ready: %d users, %d devices, %d tariffs",
            len(data.accounts), len(data.devices), len(data.tariffs),
        )
        self.ready.set()

    @staticmethod
    async def _reached(consumer: AIOKafkaConsumer, target: dict[TopicPartition, int]) -> bool:
        for tp, end in target.items():
            if await consumer.position(tp) < end:
                return False
        return True


async def load_reference_data(settings: Settings, timeout: float = 30.0) -> ReferenceData:
    """Every reference event published so far, applied (for one-off commands)."""
    feed = ReferenceFeed(settings)
    task = asyncio.create_task(feed.run())
    try:
        async with asyncio.timeout(timeout):
            await feed.ready.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return feed.data
