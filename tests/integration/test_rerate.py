"""`cdrflow rerate` over the real Kafka and ClickHouse: a what-if run changes nothing, a
re-rating rewrites only the calls whose price changed, the balance moves by exactly the
difference, and a second run changes nothing.

John (user 2) made three calls on 2026-11-20 and one the next day; Ann one on the 20th.
Then tariff 1 gets a version 2, in force since the start like version 1, that doubles
the 3706 rate and has no rate for 491.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
from decimal import Decimal

import orjson
import pytest
from starlette.testclient import TestClient

from cdrflow import rerate_command
from cdrflow.demo_data import tariff_event
from cdrflow.settings import Settings
from projections.balance import balance
from projections.clickhouse import connect
from streams.events import CallAnswered, CallEnded, CallStarted, encode
from streams.publisher import publish
from streams.topics import CALL_EVENTS, CDRS, TARIFF_EVENTS
from tests.integration.conftest import SECRET
from tests.integration.support import Processes, read_topic, wait_for

pytestmark = pytest.mark.integration

T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC
DAY = {"period_start": "1795132800", "period_end": "1795219199"}  # 2026-11-20, whole day
JOHN, ANN = (2, 10, "37052000201"), (3, 11, "37052000301")
Event = CallStarted | CallAnswered | CallEnded
VERSION_2 = {
    **tariff_event(1, version=2),
    "rates": [{"prefix": "3706", "destination": "Lithuania MOB", "rate": "0.5"},
              {"prefix": "447", "destination": "United Kingdom MOB", "rate": "0.18",
               "connection_fee": "0.02"}],
}


def call(call_id: str, who: tuple[int, int, str], dst: str, start: int, billsec: int,
         cause: int = 16) -> list[Event]:
    user, device, number = who
    events: list[Event] = [CallStarted(call_id, start, user, device, 1, number, dst,
                                       number, f"SIP/{number}-{call_id}", call_id)]
    if billsec:
        events.append(CallAnswered(call_id, start + 2_000))
    events.append(CallEnded(call_id, start + 2_000 + billsec * 1000, cause, billsec,
                            2 + billsec))
    return events


CALLS = [
    call("r-mob", JOHN, "37061234567", T0, 20),  # 0.25/min: 0.083333; v2 0.5/min: 0.166667
    call("r-busy", JOHN, "447700900123", T0 + 300_000, 0, cause=17),  # 0 either way
    call("r-de", JOHN, "4915112345678", T0 + 600_000, 10),  # 30 s at 0.22: 0.11; v2: no rate
    call("r-next-day", JOHN, "37061234567", T0 + 86_400_000, 20),  # outside the period
    call("r-ann", ANN, "37061234567", T0, 60),  # another user: 0.25
]
TABLE = ("currency  examined  changed  unchanged  failed  old total  new total  difference\n"
         "USD              3        {}          {}       1   {}   0.276667    {}\n")


def report(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """What `cdrflow rerate --from 2026-11-20 --to 2026-11-20 *argv` prints."""
    parser = argparse.ArgumentParser()
    rerate_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["rerate", "--from", "2026-11-20", "--to", "2026-11-20", *argv])
    assert rerate_command.run(settings, args) == 0
    return capsys.readouterr().out


def cdrs(settings: Settings, final: bool = True) -> list[tuple[str, int, Decimal]]:
    rows: list[tuple[str, int, Decimal]] = connect(settings.clickhouse).execute(
        f"SELECT call_id, version, user_price FROM cdrs {'FINAL' if final else ''} "
        "ORDER BY call_id, version")
    return rows


def prices(settings: Settings) -> dict[str, tuple[int, Decimal]]:
    return {call_id: (version, price) for call_id, version, price in cdrs(settings)}


def cdr_messages(settings: Settings) -> int:
    return len(asyncio.run(read_topic(settings, CDRS)))


def john_prices(api: TestClient) -> list[str]:
    values = ("2", *DAY.values())
    hash_ = hashlib.sha1(("".join(values) + SECRET).encode()).hexdigest()
    answer = api.post("/billing/api/user_calls_get",
                      data={"u": "admin", "s_user": "2", **DAY, "hash": hash_}).text
    return re.findall(r"<user_price>(.*?)</user_price>", answer)


def header(mode: str) -> str:
    return (f"{mode}: calls started 2026-11-20 00:00:00 to 2026-11-20 23:59:59 (UTC), "
            "user 2 (john), any tariff\n\n")


FAILED = ("\nfailed (not rewritten; they keep their old price):\n"
          "  r-de  no_rate: tariff 1 v2 of user 2 has no rate for 4915112345678\n\n")


def test_rerating_rewrites_changed_prices_and_moves_the_balance_by_the_difference(
        settings: Settings, pipeline: Processes, api: TestClient,
        capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(publish(settings, CALL_EVENTS, [
        (e.call_id.encode(), encode(e)) for events in CALLS for e in events]))
    wait_for(lambda: len(cdrs(settings)) == len(CALLS), 120, "5 CDRs", pipeline)
    assert prices(settings) == {
        "r-mob": (1, Decimal("0.083333")), "r-busy": (1, Decimal(0)),
        "r-de": (1, Decimal("0.11")), "r-next-day": (1, Decimal("0.083333")),
        "r-ann": (1, Decimal("0.25"))}
    client = connect(settings.clickhouse)
    before = balance(client, 2)
    assert before == Decimal("-0.276666")
    asyncio.run(publish(settings, TARIFF_EVENTS, [(b"1", orjson.dumps(VERSION_2))]))

    # what-if: the report, and not one row or message more
    rows, messages = cdrs(settings, final=False), cdr_messages(settings)
    for flag in ("--what-if", "--testing"):
        assert report(settings, capsys, "--user", "john", flag) == (
            header("what-if (testing mode)")
            + TABLE.format(1, 1, "0.193333", "0.083334") + FAILED + "nothing was published\n")
    assert (cdrs(settings, final=False), cdr_messages(settings)) == (rows, messages)
    assert balance(client, 2) == before

    # the re-rating: one new version, for the one call whose price changed
    assert report(settings, capsys, "--user", "2") == (
        header("re-rated") + TABLE.format(1, 1, "0.193333", "0.083334") + FAILED
        + f"published 1 new CDR versions to {settings.topic(CDRS)}\n")
    wait_for(lambda: prices(settings)["r-mob"][0] == 2, 60, "the new version", pipeline)
    assert prices(settings) == {
        "r-mob": (2, Decimal("0.166667")), "r-busy": (1, Decimal(0)),
        "r-de": (1, Decimal("0.11")), "r-next-day": (1, Decimal("0.083333")),
        "r-ann": (1, Decimal("0.25"))}
    assert john_prices(api) == ["0.166667", "0.0", "0.11"]
    assert balance(client, 2) == before - Decimal("0.083334") == Decimal("-0.360000")
    assert balance(client, 3) == Decimal("-0.25")

    # again: nothing left to change
    messages = cdr_messages(settings)
    assert report(settings, capsys, "--user", "john") == (
        header("re-rated") + TABLE.format(0, 2, "0.276667", "0.000000") + FAILED
        + f"published 0 new CDR versions to {settings.topic(CDRS)}\n")
    assert cdr_messages(settings) == messages
    assert balance(client, 2) == Decimal("-0.360000")

    # by tariff and period: no CDR was rated with tariff 2 (Carrier A's buy tariff)
    assert report(settings, capsys, "--tariff", "2", "--what-if") == (
        "what-if (testing mode): calls started 2026-11-20 00:00:00 to 2026-11-20 23:59:59 "
        "(UTC), all users, tariff 2\n\nno calls match\n\nnothing was published\n")
    # every user's calls of the 20th and 21st with tariff 1: r-next-day and r-ann change
    # (0.083333 -> 0.166667, 0.25 -> 0.5)
    assert report(settings, capsys, "--to", "2026-11-21", "--tariff", "1", "--what-if") == (
        "what-if (testing mode): calls started 2026-11-20 00:00:00 to 2026-11-21 23:59:59 "
        "(UTC), all users, tariff 1\n\n"
        "currency  examined  changed  unchanged  failed  old total  new total  difference\n"
        "USD              5        2          2       1   0.610000   0.943334    0.333334\n"
        + FAILED + "nothing was published\n")
