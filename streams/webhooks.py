"""`cdrflow webhooks`: MOR's "Call End" webhook (docs/webhooks.md).

Three loops in one process, none of them Faust:

- the URL feed follows `account-events` from the beginning (no consumer group) and
  keeps every `call_end_webhook_set` in a `UrlBook`;
- the router reads `cdrs` in its own consumer group and re-keys each first version of a
  CDR whose device (or user) had a URL when it was written to `call-end-webhooks`,
  keyed by the device id, so that a device's CDRs are one ordered queue;
- the deliverer reads `call-end-webhooks` in another group, one lane per partition:
  each lane POSTs its records one after the other, retrying a failure with backoff
  for ever, and the offsets are committed only up to the last delivered record.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeAlias

import aiohttp
import orjson
import yarl
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import CommitFailedError, KafkaError

from cdrflow.settings import Settings
from rating.cdr import Cdr
from rating.reference import ACCOUNT_SCHEMA
from streams.call_end import FIRST_VERSION, UrlBook, backoff, call_params, request_url
from streams.deadletters import json_object
from streams.topics import ACCOUNT_EVENTS, CALL_END_WEBHOOKS, CDRS, partitions_of
from streams.webhook_events import CALL_END_SET, call_end_webhook_set

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]
PENDING_LIMIT = 2_000  # records waiting in one lane before its partition is paused
COMMIT_SECONDS = 1.0
REFRESH_SECONDS = 1.0  # how often the URL feed catches up while no CDR comes
SESSION_MS = {"session_timeout_ms": 10_000, "heartbeat_interval_ms": 1_000}


def route_group(settings: Settings) -> str:
    return f"{settings.app_id}-webhooks-route"


def delivery_group(settings: Settings) -> str:
    return f"{settings.app_id}-webhooks"


def routed(record: Record, book: UrlBook) -> tuple[bytes, bytes] | None:
    """The (key, value) to post for one `cdrs` record, or None: no URL when the CDR was
    written (its Kafka timestamp), a re-rated version, or a CDR the sink dead-letters."""
    if book.first_ms is None or record.timestamp < book.first_ms:
        return None
    try:
        cdr = Cdr.from_dict(json_object(record.value, "CDR"))
    except ValueError:
        return None
    if cdr.version != FIRST_VERSION or not book.url_at(cdr.user_id, cdr.device_id,
                                                       record.timestamp):
        return None
    value = {"user_id": cdr.user_id, "device_id": cdr.device_id, "call_id": cdr.call_id,
             "params": call_params(cdr)}
    return str(cdr.device_id).encode(), orjson.dumps(value)


class UrlFeed:
    """Every webhook setting of `account-events`, read from the beginning."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.book = UrlBook()
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap,
                                    enable_auto_commit=False)
        await consumer.start()
        self._consumer = consumer
        self._partitions = await partitions_of(self.settings,
                                               self.settings.topic(ACCOUNT_EVENTS))
        consumer.assign(self._partitions)
        await consumer.seek_to_beginning(*self._partitions)
        await self.catch_up()

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def catch_up(self) -> None:
        """Return once every event published before this call is applied."""
        consumer = self._consumer
        assert consumer is not None
        async with self._lock:
            ends = await consumer.end_offsets(self._partitions)
            while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
                for records in batches.values():
                    for record in records:
                        self._apply(record)

    def _apply(self, record: Record) -> None:
        if record.value is None or CALL_END_SET.encode() not in record.value:
            return
        try:
            event = orjson.loads(record.value)
            if not isinstance(event, dict) or event.get("schema") != ACCOUNT_SCHEMA \
                    or event.get("type") != CALL_END_SET:
                return
            self.book.apply(call_end_webhook_set(event))
        except ValueError as exc:  # the sink dead-letters it; here it is only skipped
            log.warning("webhook setting at %s:%d skipped: %s", record.partition,
                        record.offset, exc)


async def route(settings: Settings, feed: UrlFeed, producer: AIOKafkaProducer,
                stop: asyncio.Event) -> None:
    """`cdrs` to `call-end-webhooks`; offsets are committed once the sends are acked."""
    consumer = AIOKafkaConsumer(
        settings.topic(CDRS), bootstrap_servers=settings.kafka_bootstrap,
        group_id=route_group(settings), enable_auto_commit=False,
        auto_offset_reset="earliest", **SESSION_MS)
    target = settings.topic(CALL_END_WEBHOOKS)
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=5_000)
            if not batches:
                continue
            await feed.catch_up()
            # the partitions' records merged by time; each partition keeps its order
            records = heapq.merge(*batches.values(), key=lambda record: record.timestamp)
            found = [item for item in map(lambda r: routed(r, feed.book), records) if item]
            delays = backoff(settings.webhook_max_backoff)
            while True:
                try:
                    sent = [await producer.send(target, value, key) for key, value in found]
                    for future in sent:
                        await future
                    break
                except KafkaError as exc:  # sent again whole: a few records twice
                    delay = next(delays)
                    log.warning("webhooks: routing %d CDRs failed (%s); retry in %.1f s",
                                len(found), exc, delay)
                    await asyncio.sleep(delay)
            try:
                await consumer.commit({tp: records[-1].offset + 1
                                       for tp, records in batches.items() if records})
            except CommitFailedError as exc:  # partitions moved: the new owner routes them
                log.warning("webhooks: route commit failed after a rebalance: %s", exc)
    finally:
        await consumer.stop()


class Lane:
    """One partition of `call-end-webhooks`: its records, posted in order."""

    def __init__(self, post: Callable[[Record], Awaitable[None]]) -> None:
        self.queue: asyncio.Queue[Record] = asyncio.Queue()
        self.done: int | None = None  # the offset after the last delivered record
        self.committed: int | None = None
        self.task = asyncio.create_task(self._run(post))

    async def _run(self, post: Callable[[Record], Awaitable[None]]) -> None:
        while True:
            record = await self.queue.get()
            await post(record)
            self.done = record.offset + 1


class Deliverer(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, settings: Settings, book: UrlBook, session: aiohttp.ClientSession,
                 ) -> None:
        self.settings = settings
        self.book = book
        self.session = session
        self.lanes: dict[TopicPartition, Lane] = {}
        self.posted = 0
        self._consumer: AIOKafkaConsumer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        settings = self.settings
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap, group_id=delivery_group(settings),
            enable_auto_commit=False, auto_offset_reset="earliest", **SESSION_MS)
        consumer.subscribe([settings.topic(CALL_END_WEBHOOKS)], listener=self)
        self._consumer = consumer
        await consumer.start()
        try:
            next_commit = time.monotonic() + COMMIT_SECONDS
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=PENDING_LIMIT)
                for tp, records in batches.items():
                    lane = self.lanes.get(tp)
                    if lane is None:
                        lane = self.lanes[tp] = Lane(self.post)
                    for record in records:
                        lane.queue.put_nowait(record)
                    if lane.queue.qsize() >= PENDING_LIMIT:
                        consumer.pause(tp)
                for tp in consumer.paused():
                    if tp not in self.lanes or self.lanes[tp].queue.qsize() < PENDING_LIMIT // 2:
                        consumer.resume(tp)
                for lane in self.lanes.values():
                    if lane.task.done():
                        lane.task.result()  # a bug in a lane stops the process
                if time.monotonic() >= next_commit:
                    await self._commit(list(self.lanes))
                    next_commit = time.monotonic() + COMMIT_SECONDS
        finally:
            await self._close(list(self.lanes))
            await consumer.stop()

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._close([tp for tp in revoked if tp in self.lanes])

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        pass

    async def _close(self, partitions: list[TopicPartition]) -> None:
        """Stop the lanes (a POST in flight is posted again by the next owner) and commit
        what they delivered."""
        for tp in partitions:
            self.lanes[tp].task.cancel()
        for tp in partitions:
            with contextlib.suppress(asyncio.CancelledError):
                await self.lanes[tp].task
        await self._commit(partitions)
        for tp in partitions:
            del self.lanes[tp]

    async def _commit(self, partitions: list[TopicPartition]) -> None:
        offsets = {tp: lane.done for tp in partitions
                   if (lane := self.lanes[tp]).done is not None and lane.done != lane.committed}
        if not offsets or self._consumer is None:
            return
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:  # posted again later: at least once
            log.warning("webhooks: delivery commit failed: %s", exc)
            return
        for tp, offset in offsets.items():
            self.lanes[tp].committed = offset

    async def post(self, record: Record) -> None:
        """POST one call until the receiver answers 2xx, or its URL is removed."""
        try:
            item = orjson.loads(record.value or b"")
            user_id, device_id = int(item["user_id"]), int(item["device_id"])
            params = [(str(name), str(value)) for name, value in item["params"]]
        except (ValueError, KeyError, TypeError) as exc:
            log.error("webhooks: record %d of partition %d is not a call (%s); skipped",
                      record.offset, record.partition, exc)
            return
        delays = backoff(self.settings.webhook_max_backoff)
        while True:
            url = self.book.current(user_id, device_id)
            if not url:
                log.info("webhooks: call %s not posted: device %d has no URL any more",
                         item.get("call_id"), device_id)
                return
            try:
                async with self.session.post(yarl.URL(request_url(url, params), encoded=True),
                                             allow_redirects=False) as answer:
                    if 200 <= answer.status < 300:
                        self.posted += 1
                        return
                    problem = f"HTTP {answer.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            delay = next(delays)
            log.warning("webhooks: POST of call %s to device %d's URL failed (%s); "
                        "retry in %.1f s", item.get("call_id"), device_id, problem, delay)
            await asyncio.sleep(delay)


async def run_webhooks(settings: Settings, stop: asyncio.Event) -> None:
    feed = UrlFeed(settings)
    await feed.start()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all",
                                linger_ms=5)
    await producer.start()
    timeout = aiohttp.ClientTimeout(total=settings.webhook_timeout)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            deliverer = Deliverer(settings, feed.book, session)
            log.info("webhooks: following %s into %s", settings.topic(CDRS),
                     settings.topic(CALL_END_WEBHOOKS))

            async def refresh() -> None:
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), REFRESH_SECONDS)
                    await feed.catch_up()

            async with asyncio.TaskGroup() as group:
                group.create_task(route(settings, feed, producer, stop))
                group.create_task(deliverer.run(stop))
                group.create_task(refresh())
    finally:
        await producer.stop()
        await feed.stop()
