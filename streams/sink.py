"""Kafka to ClickHouse: read a batch, write it, and only then commit its offsets.

A plain aiokafka consumer (no Faust stream) per projected topic: `getmany` a batch,
turn each record into rows (a record that cannot be turned goes to dead-letters),
insert one block per table, retry the insert with backoff while ClickHouse is away,
then commit. A crash between insert and commit redelivers the batch, which the
ReplacingMergeTree tables absorb (see docs/clickhouse.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError
from clickhouse_driver import Client

from cdrflow.settings import Settings
from projections import active_calls, faxes, rejections, tariff_rates, writer
from projections.account_tables import rows_of
from projections.clickhouse import connect
from projections.rows import cdr_row
from rating.cdr import Cdr
from streams.account_events import parse_account_event
from streams.deadletters import dead_letter, json_object
from streams.events import FaxReceived, decode
from streams.topics import (
    ACCOUNT_EVENTS,
    ACTIVE_CALLS,
    CDRS,
    DEAD_LETTERS,
    FAXES,
    TARIFF_EVENTS,
)

log = logging.getLogger(__name__)

Rows = Iterable[tuple[str, tuple[Any, ...]]]
MAX_BACKOFF = 30.0


def cdr_rows(record: ConsumerRecord[bytes, bytes]) -> Rows:
    yield "cdrs", cdr_row(Cdr.from_dict(json_object(record.value, "CDR")))


def account_rows(record: ConsumerRecord[bytes, bytes]) -> Rows:
    thing = parse_account_event(json_object(record.value, "account event"))
    return rows_of(thing, record.offset)


def fax_rows(record: ConsumerRecord[bytes, bytes]) -> Rows:
    fax = decode(record.value)  # BadEvent is a ValueError: a dead letter
    if not isinstance(fax, FaxReceived):
        raise ValueError(f"not a fax_received event on {FAXES}")
    return faxes.rows(fax, record.offset)


PROJECTIONS: dict[str, tuple[str, Callable[[ConsumerRecord[bytes, bytes]], Rows]]] = {
    "cdrs": (CDRS, cdr_rows),
    "accounts": (ACCOUNT_EVENTS, account_rows),
    "tariffs": (TARIFF_EVENTS, tariff_rates.record_rows),
    "faxes": (FAXES, fax_rows),
    "active-calls": (ACTIVE_CALLS, active_calls.record_rows),
    "dead-letters": (DEAD_LETTERS, rejections.record_rows),  # the rejected calls
}


Record: TypeAlias = ConsumerRecord[bytes, bytes]


def group_id(settings: Settings, name: str) -> str:
    """The consumer group of one projection's sink (the offsets it has projected)."""
    return f"{settings.app_id}-sink-{name}"


def rows_by_table(to_rows: Callable[[Record], Rows], records: Iterable[Record],
                  ) -> tuple[dict[str, list[tuple[Any, ...]]], list[tuple[Record, str]]]:
    """The rows of `records`, gathered per table, and the records that cannot be turned
    into rows with the reason (the sink dead-letters them; `cdrflow projections rebuild`
    only counts them)."""
    tables: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    bad = []
    for record in records:
        try:
            for table, row in to_rows(record):
                tables[table].append(row)
        except (ValueError, OverflowError) as exc:
            bad.append((record, str(exc)))
    return tables, bad


class Sink:
    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        self.name = name
        topic, self.to_rows = PROJECTIONS[name]
        self.topic = settings.topic(topic)
        self.written = 0
        self.dead = 0
        self._client: Client | None = None

    async def run(self, producer: AIOKafkaProducer, stop: asyncio.Event) -> None:
        settings = self.settings
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=group_id(settings, self.name),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=settings.sink_batch_size,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(
                    timeout_ms=int(settings.sink_batch_seconds * 1000),
                    max_records=settings.sink_batch_size,
                )
                if batches:
                    await self._handle(batches, producer)
                    await self._commit(consumer, batches)
        finally:
            await consumer.stop()

    async def _handle(self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
                      producer: AIOKafkaProducer) -> None:
        records = [record for part in batches.values() for record in part]
        tables, bad = rows_by_table(self.to_rows, records)
        for record, reason in bad:
            key, value = dead_letter(reason, record.topic, record.partition, record.offset,
                                     record.key, record.value)
            await producer.send_and_wait(self.settings.topic(DEAD_LETTERS), value, key)
            self.dead += 1
        for table, rows in tables.items():
            await self._insert(table, rows)

    async def _insert(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        delay = 0.5
        while True:
            try:
                self.written += await asyncio.to_thread(self._write, table, rows)
                return
            except Exception as exc:  # ClickHouse away or refusing: retry, commit nothing
                log.warning("sink %s: insert of %d rows into %s failed (%s); retry in %.1f s",
                            self.name, len(rows), table, exc, delay)
                self._client = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)

    def _write(self, table: str, rows: list[tuple[Any, ...]]) -> int:
        if self._client is None:
            self._client = connect(self.settings.clickhouse)
        return writer.insert(self._client, table, rows)

    async def _commit(self, consumer: AIOKafkaConsumer,
                      batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        offsets = {tp: records[-1].offset + 1 for tp, records in batches.items() if records}
        try:
            await consumer.commit(offsets)
        except CommitFailedError as exc:  # partitions moved: the new owner rewrites them
            log.warning("sink %s: commit failed after a rebalance: %s", self.name, exc)


async def run_sinks(settings: Settings, stop: asyncio.Event,
                    names: Iterable[str] = tuple(PROJECTIONS)) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await asyncio.gather(*(Sink(settings, name).run(producer, stop) for name in names))
    finally:
        await producer.stop()
