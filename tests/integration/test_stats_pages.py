"""Missed calls and Detailed statistics pages over the real Kafka, sink and ClickHouse.

John (user 2) owns DID 37052000555. Ann (user 3) calls it three times today (no answer,
busy, answered) and once yesterday (no answer); John calls out twice today (answered,
failed) and once yesterday (answered). Every CDR is inserted twice: the pages must count
each call once. Marking a missed call processed is an event the page shows within 1 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.rows import cdr_row
from projections.writer import insert
from rating.cdr import Cdr
from streams.account_events import account_event, encoded
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS
from tests.integration.support import Processes, log_in, wait_for

pytestmark = pytest.mark.integration

T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC
DAY_MS = 86_400_000
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
DID = "37052000555"


def cdr(call_id: str, start_ms: int, user_id: int, disposition: str, duration: int,
        billsec: int = 0, did: str = "", dst: str = DID) -> Cdr:
    return Cdr(call_id=call_id, version=1, start_ms=start_ms,
               answer_ms=start_ms + 1000 if billsec else 0,
               end_ms=start_ms + duration * 1000, user_id=user_id,
               device_id=10 if user_id == 2 else 11, server_id=1, uniqueid=call_id,
               channel="SIP/x", src="37052000201" if user_id == 2 else "37052000301",
               dst=dst, clid="", disposition=disposition, hangup_cause=16, duration=duration,
               billsec=billsec, user_billsec=billsec, prefix="370", destination="Lithuania",
               tariff_id=1, tariff_version=1, currency="USD", user_rate=Decimal("0.05"),
               user_price=Decimal(0), did=did)


CDRS = [
    cdr("in-1", T0, 3, "NO ANSWER", 36, did=DID),
    cdr("in-2", T0 + 600_000, 3, "BUSY", 5, did=DID),
    cdr("in-3", T0 + 1_200_000, 3, "ANSWERED", 100, 90, did=DID),
    cdr("in-old", T0 - DAY_MS, 3, "NO ANSWER", 20, did=DID),
    cdr("out-1", T0 + 1_800_000, 2, "ANSWERED", 95, 90, dst="37061234567"),
    cdr("out-2", T0 + 2_400_000, 2, "FAILED", 0, dst="37061234567"),
    cdr("out-old", T0 - DAY_MS, 2, "ANSWERED", 31, 30, dst="37061234567"),
    cdr("ann-1", T0, 3, "NO ANSWER", 10, dst="37061234567"),  # not John's
]


def missed_call(call_id: str, date: str, duration: str, cause: str, processed: int) -> str:
    return ("   <call>\n"
            f"    <call_id>{call_id}</call_id>\n    <date>{date}</date>\n"
            f"    <called_from>37052000301</called_from>\n    <called_to>{DID}</called_to>\n"
            f"    <duration>{duration}</duration>\n    <hangup_cause>{cause}</hangup_cause>\n"
            f"    <processed>{processed}</processed>\n   </call>\n")


def missed_page(calls: list[str], start: str = "2026-11-20 00:00:00",
                end: str = "2026-11-20 23:59:59") -> str:
    listed = f"  <calls>\n{''.join(calls)}  </calls>\n" if calls else "  <calls></calls>\n"
    return (
        f"{HEAD}<page>\n <pagename>Missed calls</pagename>\n <language>en</language>\n"
        f" <error_msg></error_msg>\n <userid>2</userid>\n"
        f" <missed_total>{len(calls)}</missed_total>\n <username>John Smith</username>\n"
        " <aval_languages>\n  <language>en</language>\n </aval_languages>\n"
        f" <calls_stat>\n  <period>\n   <period_start>{start}</period_start>\n"
        f"   <period_end>{end}</period_end>\n  </period>\n{listed} </calls_stat>\n</page>\n"
    )


def in_1(processed: int) -> str:
    return missed_call("in-1", "2026-11-20 10:00:00", "00:00:36", "No Answer", processed)


IN_2 = missed_call("in-2", "2026-11-20 10:10:00", "00:00:05", "Busy", 0)
IN_OLD = missed_call("in-old", "2026-11-19 10:00:00", "00:00:20", "No Answer", 0)


@pytest.fixture(scope="module")
def delivered(settings: Settings, sink: Processes) -> Processes:
    did = account_event("did_created", did=DID, user_id=2)
    asyncio.run(publish(settings, ACCOUNT_EVENTS, [encoded(2, did)]))
    client = connect(settings.clickhouse)
    wait_for(lambda: client.execute("SELECT count() FROM dids FINAL WHERE user_id = 2")
             [0][0] == 1, 60, "John's DID projected", sink)
    rows = [cdr_row(c) for c in CDRS]
    insert(client, "cdrs", rows)
    insert(client, "cdrs", rows)  # delivered twice
    assert client.execute("SELECT count() FROM cdrs")[0][0] in (len(CDRS), 2 * len(CDRS))
    return sink


@pytest.fixture
def john(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=lambda: NOON)) as client:
        log_in(client)
        yield client


def test_missed_calls_page_lists_each_missed_call_once(delivered: Processes,
                                                        john: TestClient) -> None:
    assert john.get("/stats/missed_calls").text == missed_page([in_1(0), IN_2])
    assert john.post("/stats/missed_calls", data={
        "userid": "2", "search_on": "1", "period_start": "2026-11-19",
        "period_end": "2026-11-20"}).text == missed_page(
        [IN_OLD, in_1(0), IN_2], start="2026-11-19 00:00:00")
    assert john.post("/stats/missed_calls", data={
        "period_start": "1795169000", "period_end": "1795219199"}).text == missed_page(
        [IN_2], start="2026-11-20 10:03:20")
    assert john.post("/stats/missed_calls", data={"period_start": "2026-02-30"}).text == (
        f"{HEAD}<error>Invalid parameter: period_start</error>\n")


def test_marking_a_missed_call_processed(delivered: Processes, john: TestClient) -> None:
    answer = john.post("/stats/missed_calls", data={"call_id": "in-1", "processed": "1"})
    assert answer.text == missed_page([in_1(1), IN_2])
    wait_for(lambda: john.get("/stats/missed_calls").text == missed_page([in_1(1), IN_2]),
             1.0, "the mark visible within 1 s")
    assert "<new_calls>1</new_calls>" in john.get("/stats/user_stats").text
    john.post("/stats/missed_calls", data={"call_id": "in-1", "processed": "0"})
    wait_for(lambda: john.get("/stats/missed_calls").text == missed_page([in_1(0), IN_2]),
             1.0, "the unmarking visible within 1 s")
    invalid = f"{HEAD}<error>Invalid parameter: call_id</error>\n"
    assert john.post("/stats/missed_calls", data={"call_id": "in-3", "processed": "1"}
                     ).text == invalid  # answered: not a missed call
    assert john.post("/stats/missed_calls", data={"call_id": "ann-1", "processed": "1"}
                     ).text == invalid  # not John's
    assert john.post("/stats/missed_calls", data={"call_id": "in-1", "processed": "yes"}
                     ).text == f"{HEAD}<error>Invalid parameter: processed</error>\n"


def stats_page(start: str, end: str, new_calls: int, incoming: tuple[int, ...],
               outgoing: tuple[int, ...], days: str) -> str:
    def counts(name: str, values: tuple[int, ...]) -> str:
        return (f"   <{name}>\n    <answered>{values[0]}</answered>\n"
                f"    <no_answer>{values[1]}</no_answer>\n    <busy>{values[2]}</busy>\n"
                f"    <failed>{values[3]}</failed>\n   </{name}>\n")

    return (
        f"{HEAD}<page>\n <pagename>Detailed statistics</pagename>\n <language>en</language>\n"
        f" <userid>2</userid>\n <start_date>{start}</start_date>\n <end_date>{end}</end_date>\n"
        " <details>\n  <main_details>\n   <todays_normative>40</todays_normative>\n"
        "   <months_normative>43</months_normative>\n"
        f"   <new_calls>{new_calls}</new_calls>\n  </main_details>\n"
        f"  <calls>\n{counts('incoming', incoming)}{counts('outgoing', outgoing)}  </calls>\n"
        f"{days} </details>\n</page>\n"
    )


def day(date: str, calls: int, duration: str, avg: str, normative: int) -> str:
    return (f"   <call_by_date>\n    <date>{date}</date>\n    <calls_count>{calls}</calls_count>\n"
            f"    <duration>{duration}</duration>\n    <avg_time>{avg}</avg_time>\n"
            f"    <calls_normative>{normative}</calls_normative>\n   </call_by_date>\n")


TODAY = day("2026-11-20", 5, "3.0", "1.5", 40)
YESTERDAY = day("2026-11-19", 2, "0.5", "0.5", 50)


def test_detailed_statistics_count_each_call_once(delivered: Processes,
                                                  john: TestClient) -> None:
    wait_for(lambda: "<new_calls>2</new_calls>" in john.get("/stats/user_stats").text,
             5, "the marks of the other test undone")
    # today: incoming in-1 no answer, in-2 busy, in-3 answered; outgoing out-1, out-2
    assert john.get("/stats/user_stats").text == stats_page(
        "2026-11-20", "2026-11-20", 2, (1, 1, 1, 0), (1, 0, 0, 1),
        f"  <detailed_by_date>\n{TODAY}  </detailed_by_date>\n")
    both = stats_page("2026-11-19", "2026-11-20", 3, (1, 2, 1, 0), (2, 0, 0, 1),
                      f"  <detailed_by_date>\n{TODAY}{YESTERDAY}  </detailed_by_date>\n")
    assert john.post("/billing/stats/user_stats", data={
        "period_start": "2026-11-19", "period_end": "2026-11-20"}).text == both
    assert john.post("/stats/user_stats", data={
        "period_start": "1795046400", "period_end": "2026-11-20"}).text == both
    assert john.post("/billing/stats/user_stats", data={
        "period_start": "2026-11-21", "period_end": "2026-11-21"}).text == stats_page(
        "2026-11-21", "2026-11-21", 0, (0, 0, 0, 0), (0, 0, 0, 0),
        "  <detailed_by_date></detailed_by_date>\n")


def test_other_users_pages_are_refused(delivered: Processes, john: TestClient,
                                       settings: Settings) -> None:
    refused = f"{HEAD}<error>User was not found</error>\n"
    assert john.get("/stats/missed_calls?userid=3").text == refused
    assert john.post("/stats/missed_calls", data={"userid": "3", "search_on": "1"}
                     ).text == refused
    assert john.post("/stats/missed_calls", data={"userid": "77"}).text == refused
    assert john.post("/billing/stats/user_stats", data={"userid": "3"}).text == refused
    with TestClient(create_app(settings, clock=lambda: NOON)) as anonymous:
        assert "<error_msg>Please log in</error_msg>" in anonymous.get(
            "/stats/missed_calls").text
        assert "<error_msg>Please log in</error_msg>" in anonymous.get(
            "/stats/user_stats").text
    with TestClient(create_app(settings, clock=lambda: NOON)) as admin:
        admin.post("/billing/api/login", data={"u": "admin", "p": "admin-demo"})
        page = admin.get("/stats/missed_calls?userid=2").text
        assert "<userid>2</userid>" in page and "<call_id>in-2</call_id>" in page
