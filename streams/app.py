"""The Faust app: records in, the `live-calls` table, one agent that assembles and rates.

In order, as Faust apps read best: the App, its topics, its table, its agent.
The agent runs with concurrency=1 (faust issue 606) and never raises: anything it
cannot use goes to `dead-letters` with the reason, so one bad event cannot stop
the stream or be acknowledged silently.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import faust
import orjson
from faust.types import EventT, StreamT

from cdrflow.settings import Settings
from rating.call import Call
from rating.cdr import Cdr
from rating.rater import Rejection, rate_call
from streams.active_calls import active_call
from streams.assembly import State, apply
from streams.deadletters import dead_letter
from streams.events import BadEvent, CallEnded, CallEvent, FaxReceived, decode, encode
from streams.reference_feed import ReferenceFeed
from streams.topics import ACTIVE_CALLS, CALL_EVENTS, CDRS, DEAD_LETTERS, FAXES

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        topic_partitions=settings.partitions,
        topic_allow_declare=True,
        topic_disable_leader=True,
        web_enabled=False,
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        producer_linger=0.005,
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

    @app.task  # type: ignore[untyped-decorator]
    async def follow_reference_data() -> None:
        await feed.run()

    async def reject(reason: str, event: EventT[bytes], **extra: Any) -> None:
        message = event.message
        key, value = dead_letter(reason, message.topic, message.partition, message.offset,
                                 message.key, message.value, **extra)
        await dead_letters.send(key=key, value=value)

    async def rate(call: Call) -> Cdr | Rejection:
        if not feed.ready.is_set():
            await feed.ready.wait()
        result = rate_call(call, feed.data)
        if isinstance(result, Rejection):  # maybe the reference data is only late
            await feed.catch_up()
            result = rate_call(call, feed.data)
        return result

    async def publish_live(call_event: CallEvent, state: State | None) -> None:
        """The call's state to `active-calls`, a tombstone once it ended (an event
        delivered again publishes the same value again: harmless)."""
        key = call_event.call_id.encode()
        if isinstance(call_event, CallEnded):
            await active_calls.send(key=key, value=None)
            return
        live = active_call(state, feed.data if feed.ready.is_set() else None)
        if live is not None:
            await active_calls.send(key=key, value=orjson.dumps(live))

    @app.agent(call_events, concurrency=1)
    async def assemble(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            try:
                call_event = decode(event.value)
            except BadEvent as exc:
                await reject(str(exc), event)
                continue
            try:
                if isinstance(call_event, FaxReceived):  # not a call: forwarded, validated
                    await faxes.send(key=str(call_event.user_id).encode(),
                                     value=encode(call_event))
                    continue
                step = apply(live_calls.get(call_event.call_id), call_event)
                if step.state is None:
                    live_calls.pop(call_event.call_id, None)
                else:
                    live_calls[call_event.call_id] = step.state
                await publish_live(call_event, step.state)
                if step.problem:
                    await reject(step.problem, event)
                if step.call is None:
                    continue
                result = await rate(step.call)
                if isinstance(result, Rejection):
                    await reject(f"rejected: {result.reason}: {result.detail}", event,
                                 call=asdict(step.call))
                else:
                    await cdrs.send(key=result.call_id.encode(),
                                    value=orjson.dumps(result.to_dict()))
            except Exception as exc:  # a bug must not stop the stream or lose the event
                log.exception("call event %s failed", call_event.call_id)
                await reject(f"internal error: {type(exc).__name__}: {exc}", event)

    return app

