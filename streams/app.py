"""The Faust app: records in, the `live-calls` table, one agent that assembles and rates.

In order, as Faust apps read best: the App, its topics, its table, its agent.
The agent runs with concurrency=1 (faust issue 606) and never raises: anything it
cannot use goes to `dead-letters` with the reason, so one bad event cannot stop
the stream or be acknowledged silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import asdict
from typing import Any

import faust
import orjson
from aiokafka import TopicPartition
from faust.types import StreamT

from cdrflow.settings import Settings
from rating.call import Call
from rating.cdr import Cdr
from rating.rater import Rejection, rate_call
from streams.active_calls import active_call
from streams.assembly import Limits, Step, apply, due, expire
from streams.deadletters import dead_letter
from streams.events import MAX_SWEEP_CALLS, BadEvent, FaxReceived, Sweep, decode, encode
from streams.gaps import Positions, Source, committed_offset, read_range
from streams.reference_feed import ReferenceFeed
from streams.topics import ACTIVE_CALLS, CALL_EVENTS, CDRS, DEAD_LETTERS, FAXES

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        datadir=str(settings.data_dir / f"{settings.app_id}-data"),  # not the working dir
        topic_partitions=settings.partitions,
        topic_allow_declare=True,
        topic_disable_leader=True,
        web_enabled=False,
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        producer_linger=0.005,
        # aiokafka blocks a send while a partition's batch is full and not yet sent; at
        # Faust's default 16 kB (about 13 CDRs) the agent waited on acks (bench.pipeline)
        producer_max_batch_size=524_288,
        producer_acks=-1,
        stream_wait_empty=False,
        table_cleanup_interval=60.0,
    )
    call_events = app.topic(
        settings.topic(CALL_EVENTS), key_type=bytes, value_type=bytes,
        key_serializer="raw", value_serializer="raw",
    )
    cdrs = app.topic(settings.topic(CDRS), key_type=bytes, value_type=bytes,
                     key_serializer="raw", value_serializer="raw")
    dead_letters = app.topic(settings.topic(DEAD_LETTERS), key_type=bytes, value_type=bytes,
                             key_serializer="raw", value_serializer="raw")
    faxes = app.topic(settings.topic(FAXES), key_type=bytes, value_type=bytes,
                      key_serializer="raw", value_serializer="raw")
    active_calls = app.topic(settings.topic(ACTIVE_CALLS), key_type=bytes, value_type=bytes,
                             key_serializer="raw", value_serializer="raw")
    live_calls = app.Table(
        "live-calls", default=None, partitions=settings.partitions,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
    )
    feed = ReferenceFeed(settings)
    limits = Limits(settings.max_call_seconds * 1000, settings.late_seconds * 1000)
    swept: dict[str, float] = {}  # call id -> when a sweep was last sent for it

    @app.task  # type: ignore[untyped-decorator]
    async def follow_reference_data() -> None:
        await feed.run()

    async def reject(reason: str, source: Source, **extra: Any) -> None:
        key, value = dead_letter(reason, source.topic, source.partition, source.offset,
                                 source.key, source.value, **extra)
        await dead_letters.send(key=key, value=value)

    async def rate(call: Call) -> Cdr | Rejection:
        if not feed.ready.is_set():
            await feed.ready.wait()
        result = rate_call(call, feed.data)
        if isinstance(result, Rejection):  # maybe the reference data is only late
            await feed.catch_up()
            result = rate_call(call, feed.data)
        return result

    async def publish_live(call_id: str, step: Step) -> None:
        """The call's state to `active-calls`, a tombstone once it is over (an event
        delivered again publishes the same value again: harmless)."""
        key = call_id.encode()
        if step.call is not None:  # finished (again, after a restart: the same tombstone)
            await active_calls.send(key=key, value=None)
            return
        if not step.changed or not step.shown:
            return
        if step.state is None or "closed_ms" in step.state:
            await active_calls.send(key=key, value=None)
            return
        live = active_call(step.state, feed.data if feed.ready.is_set() else None)
        if live is not None:
            await active_calls.send(key=key, value=orjson.dumps(live))

    async def settle(call_id: str, step: Step, source: Source) -> None:
        """Keep the call's new state, publish it, record a problem, rate a finished call."""
        if step.changed:
            if step.state is None:
                live_calls.pop(call_id, None)
            else:
                live_calls[call_id] = {**step.state, "p": source.partition}
        await publish_live(call_id, step)
        if step.problem:
            await reject(step.problem, source, call_id=call_id)
        if step.call is None:
            return
        result = await rate(step.call)
        if isinstance(result, Rejection):
            await reject(f"rejected: {result.reason}: {result.detail}", source,
                         call=asdict(step.call))
        else:
            await cdrs.send(key=result.call_id.encode(), value=orjson.dumps(result.to_dict()))

    @app.timer(interval=settings.sweep_seconds)  # type: ignore[untyped-decorator]
    async def sweep() -> None:
        """Find the calls due to be closed or forgotten (docs/events.md, "Calls that never
        end") and send each partition a `sweep` naming them: the agent decides, in order
        with the calls' own events, by the sweep's clock."""
        now = time.time()
        now_ms = int(now * 1000)
        for call_id, sent in list(swept.items()):
            if now - sent > 10 * settings.sweep_seconds:
                del swept[call_id]
        by_partition: dict[int, list[str]] = defaultdict(list)
        for call_id, state in list(live_calls.data.items()):
            if call_id not in swept and isinstance(state, dict) and "p" in state \
                    and due(state, now_ms, limits):
                by_partition[state["p"]].append(call_id)
                swept[call_id] = now
        for partition, call_ids in sorted(by_partition.items()):
            for first in range(0, len(call_ids), MAX_SWEEP_CALLS):
                chunk = tuple(call_ids[first:first + MAX_SWEEP_CALLS])
                await call_events.send(key=b"sweep", value=encode(Sweep(now_ms, chunk)),
                                       partition=partition)

    async def handle(source: Source) -> None:
        """One record of `call-events`: never raises; what cannot be used is a dead letter."""
        try:
            call_event = decode(source.value)
        except BadEvent as exc:
            await reject(str(exc), source)
            return
        try:
            if isinstance(call_event, FaxReceived):  # not a call: forwarded, validated
                await faxes.send(key=str(call_event.user_id).encode(), value=encode(call_event))
                return
            if isinstance(call_event, Sweep):
                for call_id in call_event.call_ids:
                    state = live_calls.get(call_id)
                    if state is not None:
                        step = expire(state, call_event.ts_ms, limits, source.offset)
                        await settle(call_id, step, source)
                return
            call_id = call_event.call_id
            step = apply(live_calls.get(call_id), call_event, source.timestamp_ms,
                         source.offset)
            await settle(call_id, step, source)
        except Exception as exc:  # a bug must not stop the stream or lose the event
            log.exception("call event at %s:%s failed", source.topic, source.offset)
            await reject(f"internal error: {type(exc).__name__}: {exc}", source)

    positions = Positions()

    async def skipped(source: Source, generation: int | None) -> list[Source]:
        """The records of the partition before this one that the stream skipped
        (streams/gaps.py); retried while Kafka does not answer, since going on would let
        the commit pass them."""
        start = positions.expected(source.partition, generation)
        tp = TopicPartition(source.topic, source.partition)
        delay = 0.5
        while True:
            try:
                if start is None:
                    start = await committed_offset(settings.kafka_bootstrap, settings.app_id,
                                                   tp)
                if start is not None and start >= source.offset:
                    return []
                records = await read_range(settings.kafka_bootstrap, tp, start, source.offset)
                if records:
                    log.warning("the stream skipped %d records of %s before offset %d: "
                                "handling them first", len(records), tp, source.offset)
                return [Source.of_record(record) for record in records]
            except Exception:
                log.exception("reading the records before %s:%d failed; retrying in %.1f s",
                              tp, source.offset, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    @app.agent(call_events, concurrency=1)
    async def assemble(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            source = Source.of_message(message)
            for missed in await skipped(source, message.generation_id):
                await handle(missed)
            await handle(source)
            positions.handled(source.partition, message.generation_id, source.offset)

    return app

