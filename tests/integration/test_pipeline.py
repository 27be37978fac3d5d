"""From switch events to MOR XML, through the real Kafka and ClickHouse.

Five calls of user 2 (John) and one of user 3 go through the worker and the sink;
`user_calls_get` must then answer with exact prices, dispositions and totals, and
answer the same after the events and the CDRs are delivered a second time.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from api.app import create_app
from cdrflow.settings import Settings
from projections.clickhouse import connect
from streams.events import CallAnswered, CallEnded, CallEvent, CallRinging, CallStarted, encode
from streams.publisher import publish
from streams.topics import CALL_EVENTS, CDRS, DEAD_LETTERS, group_lag
from tests.integration.support import Processes, read_topic, wait_for

pytestmark = pytest.mark.integration

T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC
DAY = {"period_start": "1795132800", "period_end": "1795219199"}  # 2026-11-20, whole day
JOHN, ANN = (2, 10, "37052000201"), (3, 11, "37052000301")


def call(call_id: str, who: tuple[int, int, str], dst: str, start: int, *, ring: bool,
         answer_after: int | None, end_after: int, cause: int, billsec: int,
         provider: tuple[int, str] = (0, "")) -> list[CallEvent]:
    user, device, number = who
    events: list[CallEvent] = [CallStarted(
        call_id, start, user, device, 1, number, dst, number, f"SIP/{number}-{call_id}",
        f"{start / 1000:.6f}", *provider)]
    if ring:
        events.append(CallRinging(call_id, start + 300))
    if answer_after is not None:
        events.append(CallAnswered(call_id, start + answer_after))
    events.append(CallEnded(call_id, start + end_after, cause, billsec, end_after // 1000))
    return events


CALLS = [
    # 3706 Lithuania MOB, 0.25/min: 20 s -> 0.25 x 20/60 = 0.083333; Carrier A buys it at
    # 0.12/min: 0.12 x 20/60 = 0.04, so the profit is 0.083333 - 0.04 = 0.043333
    call("call-answered", JOHN, "37061234567", T0, ring=True, answer_after=5_000,
         end_after=25_400, cause=16, billsec=20, provider=(5, "Carrier A")),
    # busy, no answer and failed calls cost nothing
    call("call-busy", JOHN, "447700900123", T0 + 300_000, ring=True, answer_after=None,
         end_after=4_000, cause=17, billsec=0),
    call("call-no-answer", JOHN, "12125551234", T0 + 600_000, ring=True, answer_after=None,
         end_after=30_000, cause=19, billsec=0),
    call("call-failed", JOHN, "4930123456", T0 + 900_000, ring=False, answer_after=None,
         end_after=1_000, cause=34, billsec=0),
    # 491 Germany MOB, 0.22/min, minimal time 30 s: 10 s bills 30 s -> 0.11
    call("call-min-time", JOHN, "4915112345678", T0 + 1_200_000, ring=True,
         answer_after=3_000, end_after=13_500, cause=16, billsec=10),
    # Ann's call must not appear in John's list
    call("call-ann", ANN, "33612345678", T0 + 60_000, ring=True, answer_after=2_000,
         end_after=62_000, cause=16, billsec=60),
]
LATE = sum(len(events) for events in CALLS)  # the events of CALLS, delivered again
GARBAGE = b'{"schema": "cdrflow.call-event/1", "type": "call_started", "call_id": 42'
# answered, but the demo tariff has no rate for 999: a rejection, not a CDR
UNRATEABLE = call("call-no-rate", JOHN, "999123456", T0 + 1_500_000, ring=True,
                  answer_after=2_000, end_after=12_000, cause=16, billsec=10)


def call_xml(calldate: str, destination: str, dispod: str, dst: str, billsec: str,
             prefix: str, price: str, rate: str,
             provider: tuple[str, str, str, str] | None = None) -> str:
    provider_name, provider_price, provider_rate, profit = provider or ("", "0.0", "0.0", price)
    return f"""     <call>
       <calldate2>{calldate}</calldate2>
       <clid>37052000201</clid>
       <destination>{destination}</destination>
       <did></did>
       <did_inc_price>0.0</did_inc_price>
       <did_price>0.0</did_price>
       <did_prov_price>0.0</did_prov_price>
       <dispod>{dispod}</dispod>
       <dst>{dst}</dst>
       <nice_billsec>{billsec}</nice_billsec>
       <nice_reseller></nice_reseller>
       <prefix>{prefix}</prefix>
       <profit>{profit}</profit>
       <provider_name>{provider_name}</provider_name>
       <provider_price>{provider_price}</provider_price>
       <provider_rate>{provider_rate}</provider_rate>
       <reseller_price>0.0</reseller_price>
       <reseller_rate>0.0</reseller_rate>
       <server_id>1</server_id>
       <src>37052000201</src>
       <user>John Smith</user>
       <user_price>{price}</user_price>
       <user_rate>{rate}</user_rate>
     </call>
"""


EXPECTED = f"""<?xml version="1.0" encoding="UTF-8"?>
<page>
 <pagename>Calls</pagename>
 <language>en</language>
 <error_msg></error_msg>
 <userid>0</userid>
 <username>admin</username>
 <total_calls>5</total_calls>
 <currency>USD</currency>
 <calls_stat>
   <period>
     <period_start>2026-11-20 00:00:00</period_start>
     <period_end>2026-11-20 23:59:59</period_end>
   </period>
   <show_user>2</show_user>
   <show_device>all</show_device>
   <show_status>all</show_status>
   <show_provider>all</show_provider>
   <show_hgc>all</show_hgc>
   <show_did>all</show_did>
   <calls>
{call_xml("2026-11-20 10:00:00", "Lithuania MOB", "ANSWERED(16)", "37061234567", "20.0",
          "3706", "0.083333", "0.25", ("Carrier A", "0.04", "0.12", "0.043333"))}\
{call_xml("2026-11-20 10:05:00", "United Kingdom MOB", "BUSY(17)", "447700900123", "0.0",
          "447", "0.0", "0.18")}\
{call_xml("2026-11-20 10:10:00", "USA", "NO ANSWER(19)", "12125551234", "0.0",
          "1", "0.0", "0.015")}\
{call_xml("2026-11-20 10:15:00", "Germany", "FAILED(34)", "4930123456", "0.0",
          "49", "0.0", "0.045")}\
{call_xml("2026-11-20 10:20:00", "Germany MOB", "ANSWERED(16)", "4915112345678", "10.0",
          "491", "0.11", "0.22")}\
   </calls>
 </calls_stat>
</page>
"""


def mor_hash(*values: str) -> str:
    return hashlib.sha1(("".join(values) + "456789").encode()).hexdigest()


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def john_calls(client: TestClient) -> str:
    answer = client.post("/billing/api/user_calls_get", data={
        "u": "admin", "s_user": "2", **DAY, "hash": mor_hash("2", *DAY.values())})
    assert answer.status_code == 200
    return answer.text


def cdr_count(settings: Settings) -> int:
    return connect(settings.clickhouse).execute("SELECT count() FROM cdrs FINAL")[0][0]


def publish_calls(settings: Settings, *extra: tuple[bytes, bytes]) -> None:
    records = [(e.call_id.encode(), encode(e)) for events in CALLS for e in events]
    asyncio.run(publish(settings, CALL_EVENTS, [*extra, *records]))


@pytest.fixture(scope="module")
def delivered(settings: Settings, pipeline: Processes) -> Processes:
    publish_calls(settings, (b"garbage", GARBAGE),
                  *[(e.call_id.encode(), encode(e)) for e in UNRATEABLE])
    wait_for(lambda: cdr_count(settings) == len(CALLS), 120, "6 CDRs in ClickHouse", pipeline)
    wait_for(lambda: len(asyncio.run(read_topic(settings, DEAD_LETTERS))) == 2, 60,
             "2 dead letters", pipeline)
    return pipeline


def test_user_calls_get_lists_rated_calls_exactly(client: TestClient, delivered: Processes) -> None:
    assert john_calls(client) == EXPECTED


def test_a_malformed_event_lands_in_dead_letters_with_its_reason(
        settings: Settings, delivered: Processes) -> None:
    letters = [orjson.loads(value) for _, value in asyncio.run(read_topic(settings, DEAD_LETTERS))]
    garbage, = (d for d in letters if d["key"] == "garbage")
    assert (garbage["reason"], garbage["value"], garbage["topic"]) == (
        "not JSON: unexpected end of data: line 1 column 73 (char 72)", GARBAGE.decode(),
        settings.topic(CALL_EVENTS))
    rejected, = (d for d in letters if d["key"] == "call-no-rate")
    assert rejected["reason"] == (
        "rejected: no_rate: tariff 1 v1 of user 2 has no rate for 999123456")
    # the whole call travels with the rejection, so it can be rated again later
    assert (rejected["call"]["call_id"], rejected["call"]["billsec"]) == ("call-no-rate", 10)
    assert len(letters) == 2


def test_errors_are_mor_error_documents(client: TestClient, delivered: Processes) -> None:
    def error(data: dict[str, str]) -> str:
        answer = client.post("/billing/api/user_calls_get", data=data)
        assert answer.status_code == 200
        return answer.text

    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    assert error({"s_user": "2", "hash": mor_hash("2")}) == head + "<error>Access Denied</error>\n"
    assert error({"u": "nobody", "s_user": "2", "hash": mor_hash("2")}) == (
        head + "<error>Access Denied</error>\n")
    assert error({"u": "admin", "s_user": "2", "hash": "0" * 40}) == (
        head + "<error>Incorrect hash</error>\n")
    assert error({"u": "admin", "s_user": "77", "hash": mor_hash("77")}) == (
        head + "<error>User was not found</error>\n")
    # a user sees only his own calls
    assert error({"u": "ann", "s_user": "2", "hash": mor_hash("2")}) == (
        head + "<error>User was not found</error>\n")


def test_everything_delivered_twice_changes_no_answer(
        settings: Settings, client: TestClient, delivered: Processes) -> None:
    first_cdrs = asyncio.run(read_topic(settings, CDRS))
    assert len(first_cdrs) == len(CALLS)
    # every call event again: the worker remembers the calls as closed and records each
    # event as late (20 events of 6 calls), rating nothing again; every CDR again too
    publish_calls(settings)
    asyncio.run(publish(settings, CDRS, [(k or b"", v or b"") for k, v in first_cdrs]))

    def all_consumed() -> bool:
        worker_lag = asyncio.run(group_lag(settings, settings.app_id, CALL_EVENTS))
        sink_lag = asyncio.run(group_lag(settings, f"{settings.app_id}-sink-cdrs", CDRS))
        return worker_lag == 0 and sink_lag == 0 and (
            len(asyncio.run(read_topic(settings, DEAD_LETTERS))) == 2 + LATE)

    wait_for(all_consumed, 120, "the worker and the sink to consume everything", delivered)
    assert len(asyncio.run(read_topic(settings, CDRS))) == 2 * len(CALLS)
    assert cdr_count(settings) == len(CALLS)
    assert john_calls(client) == EXPECTED


def doc_queries() -> list[str]:
    """The SQL blocks under "Example queries" in docs/clickhouse.md."""
    text = (Path(__file__).parents[2] / "docs" / "clickhouse.md").read_text()
    examples = text.split("## Example queries", 1)[1]
    blocks = [block.split("```", 1)[0] for block in examples.split("```sql")[1:]]
    return [sql.strip().removesuffix(";") for sql in blocks]  # one statement per call


def test_the_documented_example_queries_run_and_deduplicate(
        settings: Settings, delivered: Processes) -> None:
    # the first two; every example is run by test_clickhouse_examples.py
    per_day, per_destination = (connect(settings.clickhouse).execute(q)
                                for q in doc_queries()[:2])
    day = date(2026, 11, 20)
    # John: revenue 0.083333 + 0.11, profit 0.043333 + 0.11 (Carrier A cost 0.04);
    # Ann: 336 France MOB, 0.2/min, increment 60: 60 s -> 0.2
    assert per_day == [(2, day, 5, Decimal("0.193333"), Decimal("0.153333")),
                       (3, day, 1, Decimal("0.200000"), Decimal("0.200000"))]
    assert [(d, asr) for d, asr, _ in per_destination] == [
        ("France MOB", 1.0), ("Germany", 0.0), ("Germany MOB", 1.0), ("Lithuania MOB", 1.0),
        ("USA", 0.0), ("United Kingdom MOB", 0.0)]
    assert [acd for _, asr, acd in per_destination if asr] == [60.0, 10.0, 20.0]


def test_operators_list_dead_letters_by_reason(settings: Settings, delivered: Processes) -> None:
    env = {**os.environ, **settings.to_env()}
    listed = subprocess.run([sys.executable, "-m", "cdrflow.cli", "dead-letters", "--summary"],
                            env=env, capture_output=True, text=True, check=True)
    assert sorted(listed.stdout.splitlines()) == [
        "       1  not JSON", "       1  rejected: no_rate", "       3  late call_answered",
        "       5  late call_ringing", "       6  late call_ended", "       6  late call_started",
        f"{2 + LATE} dead letters"]
