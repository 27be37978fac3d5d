"""`cdrflow projections rebuild` over the real services.

John keeps a phonebook, pays, and makes calls that the worker rates; one account event is
garbage (a dead letter). With the sink stopped, the rebuild drops every projection and
replays the topics: the API answers byte for byte the same, the tables hold the same
rows, and no dead letter is written twice. A sink started afterwards continues where the
rebuild stopped: one more payment is projected once, and nothing old is written again.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from api.hash import mor_hash
from cdrflow.projections_command import Refused, rebuild
from cdrflow.settings import Settings
from projections import writer
from projections.balance import balance
from projections.clickhouse import connect
from streams.events import CallAnswered, CallEnded, CallEvent, CallStarted, encode
from streams.publisher import publish
from streams.sink import PROJECTIONS, group_id
from streams.topics import ACCOUNT_EVENTS, CALL_EVENTS, DEAD_LETTERS, group_lag
from tests.integration.conftest import SECRET
from tests.integration.support import Processes, log_in, read_topic, wait_for

pytestmark = pytest.mark.integration

OCT_20 = 1_792_490_400_000  # 2026-10-20 10:00:00 UTC
DAY = {"s_user": "2", "period_start": "1792454400", "period_end": "1792540799"}
PAGES = ("/callc/main", "/users/personal_details", "/phonebooks/list", "/devices/user_devices",
         "/payments/personal_payments", "/tariffs/user_rates", "/stats/call_list",
         "/stats/user_stats", "/stats/missed_calls")


def cdrflow(settings: Settings, *args: str, stdin: int | None = None,
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cdrflow.cli", *args], text=True,
                          capture_output=True, env={**os.environ, **settings.to_env()},
                          stdin=stdin, timeout=180, check=False)


def call(call_id: str, dst: str, billsec: int, start_ms: int) -> list[tuple[bytes, bytes]]:
    """The call events of one answered call of John's, keyed for call-events."""
    answer = start_ms + 5_000
    events: list[CallEvent] = [
        CallStarted(call_id, start_ms, 2, 10, 1, "37052000201", dst, "37052000201",
                    f"SIP/201-{call_id}", f"{start_ms // 1000}.0"),
        CallAnswered(call_id, answer),
        CallEnded(call_id, answer + billsec * 1000, 16, billsec, billsec + 5)]
    return [(call_id.encode(), encode(event)) for event in events]


def answers(api: TestClient) -> dict[str, str]:
    found = {url: api.get(url).text for url in PAGES}
    found["user_calls_get"] = api.post("/billing/api/user_calls_get", data={
        "u": "admin", **DAY, "hash": mor_hash(DAY.values(), SECRET)}).text
    return found


def table_rows(settings: Settings) -> dict[str, list[tuple[object, ...]]]:
    client = connect(settings.clickhouse)
    return {table: sorted(map(tuple, client.execute(f"SELECT * FROM {table} FINAL")), key=repr)
            for table in writer.TABLES}


def raw_counts(settings: Settings) -> dict[str, int]:
    """Rows as inserted, duplicates included (no FINAL, no merge)."""
    client = connect(settings.clickhouse)
    return {table: client.execute(f"SELECT count() FROM {table}")[0][0]
            for table in writer.TABLES}


def lags(settings: Settings) -> dict[str, int]:
    return {name: asyncio.run(group_lag(settings, group_id(settings, name), topic))
            for name, (topic, _) in PROJECTIONS.items()}


def dead_letters(settings: Settings) -> int:
    return len(asyncio.run(read_topic(settings, DEAD_LETTERS)))


def test_a_rebuild_gives_the_same_answers_and_the_sink_goes_on(
        settings: Settings, pipeline: Processes, api: TestClient) -> None:
    clickhouse = connect(settings.clickhouse)
    wait_for(lambda: "<status>ok</status>" in api.post(
        "/billing/api/login", data={"u": "john", "p": "john-demo"}).text, 60,
        "john can log in (his user projected)", pipeline)
    log_in(api)
    for number, name in (("37061234567", "Ann"), ("442071234567", "London office")):
        assert "<status>ok</status>" in api.post(
            "/phonebooks/add_new/2", data={"number": number, "name": name}).text
    assert cdrflow(settings, "payment", "add", "--user", "2", "--amount", "20",
                   "--payment-id", "77").returncode == 0
    asyncio.run(publish(settings, CALL_EVENTS, [
        *call("rb-1", "37061234567", 60, OCT_20),
        *call("rb-2", "447700900123", 61, OCT_20 + 3_600_000)]))
    asyncio.run(publish(settings, ACCOUNT_EVENTS, [(b"2", b'{"type": "user_created"')]))
    # 20 - (0.25 + 0.203) = 19.547
    wait_for(lambda: balance(clickhouse, 2) == Decimal("19.547"), 120,
             "two calls and a payment in the balance", pipeline)
    wait_for(lambda: dead_letters(settings) == 1, 30, "the garbage dead-lettered", pipeline)
    wait_for(lambda: not any(lags(settings).values()), 30, "the sink caught up", pipeline)
    before, rows = answers(api), table_rows(settings)
    assert "<balance>19.547 USD</balance>" in before["/users/personal_details"]
    assert before["user_calls_get"].count("<call>") == 2
    assert before["/phonebooks/list"].count("<entry>") == 2

    with pytest.raises(Refused, match="the sink is running"):
        asyncio.run(rebuild(settings))
    sink = pipeline.running["sink"]
    sink.terminate()
    sink.wait(timeout=30)
    refused = cdrflow(settings, "projections", "rebuild", stdin=subprocess.DEVNULL)
    assert (refused.returncode, refused.stderr) == (
        2, "refused: this drops tables; pass --yes to run without a terminal\n")

    done = cdrflow(settings, "projections", "rebuild", "--yes")
    assert done.returncode == 0, done.stderr
    assert "cdrs: 2/2 records" in done.stderr and "1 bad" in done.stderr
    assert table_rows(settings) == rows
    assert answers(api) == before
    assert dead_letters(settings) == 1  # not written again
    assert lags(settings) == dict.fromkeys(PROJECTIONS, 0)
    rebuilt = raw_counts(settings)

    pipeline.start("sink")
    assert cdrflow(settings, "payment", "add", "--user", "2", "--amount", "5",
                   "--payment-id", "78").returncode == 0
    wait_for(lambda: balance(clickhouse, 2) == Decimal("24.547"), 60,
             "the new payment in the balance", pipeline)
    wait_for(lambda: not any(lags(settings).values()), 30, "the sink caught up", pipeline)
    assert raw_counts(settings) == {**rebuilt, "payments": rebuilt["payments"] + 1}
    assert dead_letters(settings) == 1
