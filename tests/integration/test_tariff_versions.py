"""A new tariff version reaches the running worker without a restart, and prices only
the calls that start after it takes effect."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import orjson
import pytest

from cdrflow.settings import Settings
from projections.clickhouse import connect
from rating.tariff_events import TARIFF_SCHEMA
from streams.events import CallAnswered, CallEnded, CallStarted, encode
from streams.publisher import publish
from streams.topics import CALL_EVENTS, TARIFF_EVENTS
from tests.integration.support import Processes, wait_for

pytestmark = pytest.mark.integration

T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC
V2_FROM = T0 + 3_600_000  # version 2 takes effect at 11:00:00


def answered_call(call_id: str, start_ms: int) -> list[tuple[bytes, bytes]]:
    events = [
        CallStarted(call_id, start_ms, 2, 10, 1, "37052000201", "37061234567",
                    "37052000201", "SIP/201-1", call_id),
        CallAnswered(call_id, start_ms + 2_000),
        CallEnded(call_id, start_ms + 22_000, 16, 20, 22),
    ]
    return [(call_id.encode(), encode(e)) for e in events]


def prices(settings: Settings) -> dict[str, tuple[int, Decimal]]:
    rows = connect(settings.clickhouse).execute(
        "SELECT call_id, tariff_version, user_price FROM cdrs FINAL")
    return {call_id: (version, price) for call_id, version, price in rows}


def test_a_new_version_applies_from_its_moment_without_a_restart(
        settings: Settings, pipeline: Processes) -> None:
    asyncio.run(publish(settings, CALL_EVENTS, answered_call("before-v2", T0)))
    wait_for(lambda: len(prices(settings)) == 1, 120, "the first CDR", pipeline)

    version_2 = {
        "schema": TARIFF_SCHEMA, "type": "tariff_published", "tariff_id": 1, "version": 2,
        "name": "Demo retail 2", "currency": "USD", "effective_from_ms": V2_FROM,
        "rates": [{"prefix": "3706", "destination": "Lithuania MOB", "rate": "0.5"}],
    }
    asyncio.run(publish(settings, TARIFF_EVENTS, [(b"1", orjson.dumps(version_2))]))
    asyncio.run(publish(settings, CALL_EVENTS, [
        *answered_call("still-v1", V2_FROM - 1_000),  # started a second before v2
        *answered_call("after-v2", V2_FROM),
    ]))
    wait_for(lambda: len(prices(settings)) == 3, 120, "three CDRs", pipeline)

    # 20 s at 0.25/min = 0.083333 (version 1); at 0.5/min = 0.166667 (version 2)
    assert prices(settings) == {
        "before-v2": (1, Decimal("0.083333")),
        "still-v1": (1, Decimal("0.083333")),
        "after-v2": (2, Decimal("0.166667")),
    }
