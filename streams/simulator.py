"""A switch simulator: realistic call events for the demo, tests and benchmarks.

Each simulated call is published as the switch would publish it (started, ringing,
answered, ended), with times set in the recent past so the call ends "now".
The mix and the destinations are seeded, so a seed reproduces the same calls.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from cdrflow.settings import Settings
from streams.events import CallAnswered, CallEnded, CallRinging, CallStarted, CallStep, encode
from streams.publisher import producer
from streams.topics import CALL_EVENTS

# (dialled prefix, digits that follow) for real-looking international numbers
DESTINATIONS: Sequence[tuple[str, int]] = (
    ("3706", 7), ("3705", 7), ("4477", 8), ("4420", 8), ("1212", 7), ("1646", 7),
    ("4915", 9), ("4930", 8), ("3361", 8), ("3314", 8), ("3932", 8), ("3462", 7),
    ("4871", 7), ("3519", 8), ("6141", 8), ("8190", 8),
)
# (disposition, weight, hangup cause)
OUTCOMES: Sequence[tuple[str, int, int]] = (
    ("ANSWERED", 60, 16), ("NO ANSWER", 15, 19), ("BUSY", 15, 17), ("FAILED", 10, 34),
)


@dataclass(frozen=True)
class Caller:
    user_id: int
    device_id: int
    number: str


def simulated_call(rng: random.Random, caller: Caller, end_ms: int, server_id: int = 1,
                   outcome: str | None = None) -> list[CallStep]:
    """The events of one call ending at `end_ms`."""
    kind = outcome or rng.choices([o[0] for o in OUTCOMES], [o[1] for o in OUTCOMES])[0]
    cause = {o[0]: o[2] for o in OUTCOMES}[kind]
    prefix, digits = rng.choice(DESTINATIONS)
    dst = prefix + "".join(rng.choice("0123456789") for _ in range(digits))
    call_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    ring_ms = rng.randint(2_000, 25_000) if kind != "FAILED" else 0
    billsec = rng.choice([rng.randint(1, 59), rng.randint(60, 600)]) if kind == "ANSWERED" else 0
    duration_ms = ring_ms + billsec * 1000 + rng.randint(0, 999)
    start_ms = end_ms - duration_ms
    started = CallStarted(
        call_id=call_id, ts_ms=start_ms, user_id=caller.user_id, device_id=caller.device_id,
        server_id=server_id, src=caller.number, dst=dst, clid=caller.number,
        channel=f"SIP/{caller.number}-{rng.getrandbits(32):08x}",
        uniqueid=f"{start_ms / 1000:.6f}",
    )
    events: list[CallStep] = [started]
    if ring_ms:
        events.append(CallRinging(call_id, start_ms + 300))
    if kind == "ANSWERED":
        events.append(CallAnswered(call_id, start_ms + ring_ms))
    events.append(CallEnded(call_id, end_ms, cause, billsec, duration_ms // 1000))
    return events


def calls(callers: Sequence[Caller], seed: int,
          clock: Callable[[], float] = time.time) -> Iterator[list[CallStep]]:
    rng = random.Random(seed)
    while True:
        yield simulated_call(rng, rng.choice(callers), int(clock() * 1000))


async def simulate(settings: Settings, callers: Sequence[Caller], count: int | None,
                   rate: float, seed: int = 1,
                   on_progress: Callable[[int], None] | None = None) -> int:
    """Publish `count` calls (None: until cancelled) at `rate` calls per second."""
    topic = settings.topic(CALL_EVENTS)
    sent = 0
    started = time.monotonic()
    async with producer(settings) as kafka:
        for events in calls(callers, seed):
            if count is not None and sent >= count:
                break
            for event in events:
                await kafka.send(topic, encode(event), event.call_id.encode())
            sent += 1
            if on_progress and sent % max(1, int(rate)) == 0:
                on_progress(sent)
            ahead = sent / rate - (time.monotonic() - started)
            if ahead > 0:
                await kafka.flush()
                await asyncio.sleep(ahead)
        await kafka.flush()
    return sent
