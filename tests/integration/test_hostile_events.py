"""10,000 malformed or hostile events among a load of calls (docs/faults.md): every one
is a dead letter with its reason, and the calls are rated exactly as without them."""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter

import orjson
import pytest

from cdrflow.settings import Settings
from streams.events import SCHEMA
from streams.publisher import publish
from streams.topics import CALL_EVENTS, DEAD_LETTERS
from tests.integration.fault_load import Run, load_events
from tests.integration.support import Processes, read_topic, wait_for

pytestmark = pytest.mark.integration

HOSTILE = int(os.environ.get("CDRFLOW_HOSTILE_EVENTS", "10000"))
CALLS = 5_000
TEXT = ("call_id", "src", "dst", "clid", "channel", "uniqueid")
INTS = ("ts_ms", "user_id", "device_id", "server_id")


def hostile(rng: random.Random) -> bytes:
    """One event that can never become part of a call, of a random kind."""
    started = {"schema": SCHEMA, "type": "call_started", "call_id": f"h-{rng.getrandbits(64)}",
               "ts_ms": 1_795_000_000_000, "user_id": 2, "device_id": 10, "server_id": 1,
               "src": "37052000201", "dst": "37061234567", "clid": "37052000201",
               "channel": "SIP/201-1", "uniqueid": "1.0"}
    kind = rng.randrange(10)
    if kind == 0:  # not JSON at all
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200))) + b"\xff{"
    if kind == 1:  # JSON, but not an object
        return orjson.dumps(rng.choice([[1, 2], "call_started", 42, None, 1.5, True]))
    if kind == 2:  # a wrong or missing schema, an unknown type
        return orjson.dumps({**started, **rng.choice([
            {"schema": "cdrflow.call-event/9"}, {"schema": None}, {"type": "call_exploded"},
            {"type": 7}])})
    if kind == 3:  # a text field of another type
        return orjson.dumps({**started, rng.choice(TEXT): rng.choice(
            [7, None, [], {"a": 1}, 1.5, True])})
    if kind == 4:  # a number field of another type, negative or too large
        return orjson.dumps({**started, rng.choice(INTS): rng.choice(
            ["7", -1, 1.5, True, None, 2**63, [1]])})
    if kind == 5:  # a field missing
        body = dict(started)
        del body[rng.choice(TEXT + INTS)]
        return orjson.dumps(body)
    if kind == 6:  # a huge field
        return orjson.dumps({**started, rng.choice(TEXT): "9" * rng.randint(257, 60_000)})
    if kind == 7:  # a huge event
        return orjson.dumps({**started, "padding": "x" * 70_000})
    if kind == 8:  # control characters
        text = "".join(rng.choice("37\x00\x01\x1b\n\r\t\x7f") for _ in range(12))
        return orjson.dumps({**started, rng.choice(TEXT): text + "\x00"})
    # an end that says it billed more than it lasted
    return orjson.dumps({"schema": SCHEMA, "type": "call_ended", "call_id": started["call_id"],
                         "ts_ms": 1_795_000_000_000, "hangup_cause": 16, "billsec": 90,
                         "duration": rng.randint(0, 89)})


def test_hostile_events_are_dead_letters_and_the_calls_are_rated_exactly(
        settings: Settings, processes: Processes) -> None:
    rng = random.Random(9)
    events = [hostile(rng) for _ in range(HOSTILE)]
    run = Run(settings, processes, load_events(CALLS, seed=9))
    run.start()  # the calls, then the hostile events on top, keyed like calls
    asyncio.run(publish(settings, CALL_EVENTS, [(f"h-{n}".encode(), event)
                                                for n, event in enumerate(events)]))
    run.finish(foreign="h-")  # every call exactly; the hostile letters aside:
    wait_for(lambda: len(asyncio.run(read_topic(settings, DEAD_LETTERS))) >= HOSTILE, 300,
             f"{HOSTILE:,} dead letters", processes)
    letters = [orjson.loads(value or b"{}")
               for _, value in asyncio.run(read_topic(settings, DEAD_LETTERS))]
    assert len(letters) == HOSTILE + run.expected.rejected
    hostile_letters = [letter for letter in letters if letter["key"].startswith("h-")]
    assert len(hostile_letters) == HOSTILE
    assert all(letter["reason"] and letter["value_b64"] for letter in hostile_letters)
    kinds = Counter(letter["reason"].split(":")[0].split(" ")[0] for letter in hostile_letters)
    assert sorted(kinds) == ["billsec", "call_started", "event", "not", "unknown"]
