"""A messy switch, through the real worker, Kafka and ClickHouse (docs/events.md).

The worker runs with a longest call of 3 s, remembers closed calls and waits for lost
starts 4 s, and sweeps every 0.5 s, so that a call without hangup, a late hangup and
events whose start never comes all play out within seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson
import pytest

from cdrflow.settings import Settings
from projections.clickhouse import connect
from streams.events import CallAnswered, CallEnded, CallRinging, CallStarted, CallStep, encode
from streams.publisher import publish
from streams.topics import CALL_EVENTS, DEAD_LETTERS
from tests.integration.support import Processes, read_topic, wait_for

pytestmark = pytest.mark.integration

JOHN = (2, 10, "37052000201")


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:  # the conftest's, with short limits
    return settings.with_(max_call_seconds=3, late_seconds=4, sweep_seconds=0.5)


def started(call_id: str, at: int, dst: str = "37061234567") -> CallStarted:
    user, device, number = JOHN
    return CallStarted(call_id, at, user, device, 1, number, dst, number,
                       f"SIP/{number}-{call_id}", f"{at / 1000:.6f}", 5, "Carrier A")


def send(settings: Settings, *events: CallStep) -> None:
    asyncio.run(publish(settings, CALL_EVENTS, [(e.call_id.encode(), encode(e))
                                                for e in events]))


def cdrs(settings: Settings) -> dict[str, tuple[Any, ...]]:
    rows = connect(settings.clickhouse).execute(
        "SELECT call_id, disposition, billsec, duration, user_price, closed_by "
        "FROM cdrs FINAL")
    return {row[0]: row[1:] for row in rows}


def letters(settings: Settings) -> list[dict[str, Any]]:
    return [orjson.loads(value or b"{}")
            for _, value in asyncio.run(read_topic(settings, DEAD_LETTERS))]


@pytest.fixture(scope="module")
def played(settings: Settings, pipeline: Processes) -> Iterator[Processes]:
    now = int(time.time() * 1000)
    send(settings,
         # answered 1 s after its start and never hung up: closed at 3 s, billed 2 s
         started("no-hangup", now), CallAnswered("no-hangup", now + 1_000),
         # the end overtakes the answer: rated from the end's billsec (20 s)
         started("end-first", now), CallEnded("end-first", now + 25_000, 16, 20, 25),
         CallAnswered("end-first", now + 5_000),
         # the end overtakes even the start: the end waits for it
         CallEnded("start-last", now + 25_000, 16, 20, 25), CallRinging("start-last", now + 300),
         CallAnswered("start-last", now + 5_000), started("start-last", now),
         # ringing and answer whose start is lost, and an end whose start is lost
         CallRinging("no-start", now + 300), CallAnswered("no-start", now + 2_000),
         CallEnded("no-start-2", now + 9_000, 16, 5, 9))
    wait_for(lambda: len(cdrs(settings)) == 3, 60, "3 CDRs", pipeline)
    # the real hangup of the call closed for its length, after the close
    send(settings, CallEnded("no-hangup", now + 3_600_000, 16, 3_599, 3_600))
    wait_for(lambda: len(letters(settings)) == 4, 60, "4 dead letters", pipeline)
    yield pipeline


def test_each_call_is_rated_once_as_the_switch_meant_it(settings: Settings,
                                                        played: Processes) -> None:
    # Lithuania MOB, 0.25/min: 2 s -> 0.008333, 20 s -> 0.083333
    assert cdrs(settings) == {
        "no-hangup": ("ANSWERED", 2, 3, Decimal("0.008333"), "max_duration"),
        "end-first": ("ANSWERED", 20, 25, Decimal("0.083333"), ""),
        "start-last": ("ANSWERED", 20, 25, Decimal("0.083333"), ""),
    }


def test_late_and_lost_events_are_recorded_with_their_reason(settings: Settings,
                                                             played: Processes) -> None:
    found = sorted((letter["call_id"], letter["reason"]) for letter in letters(settings))
    assert found == [
        ("end-first", "late call_answered: the call was already closed"),
        ("no-hangup", "late call_ended: the call was already closed"),
        ("no-start", "call_ringing or call_answered without call_started "
                     "(the start never arrived)"),
        ("no-start-2", "call_ended without call_started (the start never arrived)"),
    ]


def test_a_closed_call_is_forgotten_after_the_late_period(settings: Settings,
                                                          played: Processes) -> None:
    # 4 s after its close the worker forgets a call: the same end is then a lost start
    time.sleep(5)
    now = int(time.time() * 1000)
    send(settings, CallEnded("end-first", now, 16, 20, 25))
    wait_for(lambda: len(letters(settings)) == 5, 60, "a fifth dead letter", played)
    assert sorted(letter["reason"] for letter in letters(settings)
                  if letter["call_id"] == "end-first") == [
        "call_ended without call_started (the start never arrived)",
        "late call_answered: the call was already closed"]
    assert len(cdrs(settings)) == 3
