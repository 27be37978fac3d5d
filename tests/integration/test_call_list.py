"""The main page, the call list, its exports and the new calls over the real ClickHouse.

John (user 2) owns the DID 37052000999. He made three calls today and two earlier this
month; Ann (user 3) called his DID twice today (once unanswered: missed) and once in
October (missed), and made one call of her own. Every CDR is inserted twice (a
redelivered batch): no answer may change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

import api.call_list
from api.app import create_app
from cdrflow.settings import Settings
from projections.call_stats import main_stats
from projections.callflow import DIDS_TABLE
from projections.clickhouse import connect
from projections.rows import cdr_row
from projections.writer import insert
from rating.cdr import Cdr
from tests.integration.support import Processes, log_in

pytestmark = pytest.mark.integration

NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
DID = "37052000999"


def cdr(call_id: str, start_ms: int, user_id: int, device_id: int, dst: str, disposition: str,
        billsec: int, destination: str, price: str, did: str = "",
        did_price: str = "0") -> Cdr:
    src = {2: "37052000201", 3: "37052000301"}[user_id]
    answered = disposition == "ANSWERED"
    return Cdr(call_id=call_id, version=1, start_ms=start_ms,
               answer_ms=start_ms + 5000 if answered else 0,
               end_ms=start_ms + 5000 + billsec * 1000, user_id=user_id, device_id=device_id,
               server_id=1, uniqueid=call_id, channel="SIP/x", src=src, dst=dst, clid=src,
               disposition=disposition, hangup_cause=16 if answered else 19,
               duration=billsec + 5, billsec=billsec, user_billsec=billsec, prefix=dst[:3],
               destination=destination, tariff_id=1, tariff_version=1, currency="USD",
               user_rate=Decimal("0.25"), user_price=Decimal(price), did=did,
               did_price=Decimal(did_price))


CDRS = [
    cdr("out1", T0 + 250, 2, 10, "37061234567", "ANSWERED", 65, "Lithuania MOB", "0.270833"),
    cdr("out2", T0 + 300_000, 2, 10, "447700900123", "NO ANSWER", 0, "United Kingdom MOB",
        "0"),
    cdr("out3", T0 + 600_000, 2, 99, "4930123", "BUSY", 0, "Germany", "0"),
    cdr("in1", T0 + 3_600_000, 3, 11, DID, "ANSWERED", 30, "Lithuania", "0.025", DID, "0.01"),
    cdr("in2", T0 + 5_400_000, 3, 11, DID, "NO ANSWER", 0, "Lithuania", "0", DID),
    cdr("ann1", T0 + 4_500_000, 3, 11, "442071234567", "ANSWERED", 20, "United Kingdom",
        "0.0134"),
    cdr("old", T0 - 18 * 86_400_000 - 3_600_000, 2, 10, "4930555", "ANSWERED", 100, "Germany",
        "0.05"),  # 2026-11-02 09:00
    cdr("yesterday", T0 - 75_600_000, 2, 10, "4930556", "ANSWERED", 10, "Germany", "0.0025"),
    cdr("oct", T0 - 36 * 86_400_000, 3, 11, DID, "FAILED", 0, "Lithuania", "0", DID),
]


def call(date: str, src: str, dst: str, destination: str, duration: str, cause: str,
         price: str) -> str:
    return (f"   <call>\n    <date>{date}</date>\n    <called_from>{src}</called_from>\n"
            f"    <called_to>{dst}</called_to>\n    <destination>{destination}</destination>\n"
            f"    <duration>{duration}</duration>\n    <hangup_cause>{cause}</hangup_cause>\n"
            f"    <price>{price}</price>\n   </call>\n")


OUT1 = call("2026-11-20 10:00:00", "37052000201", "37061234567", "Lithuania MOB", "00:01:05",
            "Answered", "0.270833")
OUT2 = call("2026-11-20 10:05:00", "37052000201", "447700900123", "United Kingdom MOB",
            "00:00:00", "No Answer", "0.0")
OUT3 = call("2026-11-20 10:10:00", "37052000201", "4930123", "Germany", "00:00:00", "Busy",
            "0.0")
IN1 = call("2026-11-20 11:00:00", "37052000301", DID, "Lithuania", "00:00:30", "Answered",
           "0.01")
IN2 = call("2026-11-20 11:30:00", "37052000301", DID, "Lithuania", "00:00:00", "No Answer",
           "0.0")
OLD = call("2026-11-02 09:00:00", "37052000201", "4930555", "Germany", "00:01:40", "Answered",
           "0.05")
YESTERDAY = call("2026-11-19 13:00:00", "37052000201", "4930556", "Germany", "00:00:10",
                 "Answered", "0.0025")


def call_list(calls: list[str], *, device: str = "all", status: str = "all",
              direction: str = "all",
              period: tuple[str, str] = ("2026-11-20 00:00:00", "2026-11-20 23:59:59")) -> str:
    listed = f"  <calls>\n{''.join(calls)}  </calls>\n" if calls else "  <calls></calls>\n"
    return (
        f"{HEAD}<page>\n <pagename>Calls</pagename>\n <language>en</language>\n"
        " <error_msg></error_msg>\n <userid>2</userid>\n"
        f" <show_device>{device}</show_device>\n <status>{status}</status>\n"
        f" <direction>{direction}</direction>\n <total_calls>{len(calls)}</total_calls>\n"
        " <username>John Smith</username>\n <currency>USD</currency>\n"
        " <aval_languages>\n  <language>en</language>\n </aval_languages>\n"
        " <calls_stat>\n  <period>\n"
        f"   <period_start>{period[0]}</period_start>\n"
        f"   <period_end>{period[1]}</period_end>\n"
        f"  </period>\n{listed} </calls_stat>\n</page>\n"
    )


def error(message: str) -> str:
    return f"{HEAD}<error>{message}</error>\n"


@pytest.fixture(scope="module")
def john(settings: Settings, sink: Processes) -> Iterator[TestClient]:
    client = connect(settings.clickhouse)
    insert(client, DIDS_TABLE, [(DID, 2, 0, 0, 0, 1, 0)])
    for _ in range(2):  # a redelivered batch
        insert(client, "cdrs", [cdr_row(c) for c in CDRS])
    with TestClient(create_app(settings, clock=lambda: NOON)) as api:
        log_in(api)
        yield api


def test_main_page(john: TestClient) -> None:
    assert john.get("/callc/main").text == (
        f"{HEAD}<page>\n <pagename>Main page</pagename>\n <username>John Smith</username>\n"
        " <userid>2</userid>\n <language>en</language>\n <stats>\n  <missed_calls>\n"
        "   <missed_today>1</missed_today>\n   <missed_total>2</missed_total>\n"
        "  </missed_calls>\n  <call_history>\n"
        "   <calls>\n    <call_counts>4</call_counts>\n    <period>Month</period>\n"
        "    <call_duration>00:03:25</call_duration>\n   </calls>\n"
        "   <calls>\n    <call_counts>2</call_counts>\n    <period>Day</period>\n"
        "    <call_duration>00:01:35</call_duration>\n   </calls>\n"
        "  </call_history>\n  <finances>\n   <account>Postpaid</account>\n"
        "   <balance>-0.323333 USD</balance>\n   <credit>No Limit</credit>\n"
        "  </finances>\n </stats>\n</page>\n"
    )


def test_call_list_today(john: TestClient) -> None:
    today = call_list([OUT1, OUT2, OUT3, IN1, IN2])
    response = john.get("/stats/call_list")
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text == today
    assert john.post("/stats/call_list", data={"userid": "2", "search_on": "1"}).text == today


def test_call_list_filters(john: TestClient) -> None:
    def post(**form: str) -> str:
        return john.post("/stats/call_list", data={"userid": "2", "search_on": "1", **form}).text

    assert post(direction="outgoing") == call_list([OUT1, OUT2, OUT3], direction="outgoing")
    assert post(calltype="incoming") == call_list([IN1, IN2], direction="incoming")
    assert post(calltype="answered") == call_list([OUT1, IN1], status="answered")
    assert post(direction="incoming", calltype="no answer") == call_list(
        [IN2], direction="incoming", status="no answer")
    assert post(device="99") == call_list([OUT3], device="99")
    assert post(period_start="2026-11-01", period_end="2026-11-19") == call_list(
        [OLD, YESTERDAY], period=("2026-11-01 00:00:00", "2026-11-19 23:59:59"))
    assert post(period_start=str(T0 // 1000 + 1), period_end=str(T0 // 1000 + 600)) == \
        call_list([OUT2, OUT3], period=("2026-11-20 10:00:01", "2026-11-20 10:10:00"))
    assert post(period_start="2026-12-01", period_end="2026-12-31") == call_list(
        [], period=("2026-12-01 00:00:00", "2026-12-31 23:59:59"))


def test_call_list_refusals(john: TestClient) -> None:
    def post(**form: str) -> str:
        return john.post("/stats/call_list", data=form).text

    assert post(userid="3") == error("User was not found")
    assert post(direction="sideways") == error("Invalid parameter: direction")
    assert post(direction="outgoing", calltype="incoming") == error(
        "Invalid parameter: calltype")
    assert post(period_start="2026-13-01") == error("Invalid parameter: period_start")
    assert john.get("/stats/call_list_to_csv/3").text == error("User was not found")
    assert john.get("/stats/call_list_to_pdf/3").text == error("User was not found")


@pytest.mark.parametrize("page_rows", [5000, 2, 1])
def test_csv_export(john: TestClient, monkeypatch: pytest.MonkeyPatch, page_rows: int) -> None:
    monkeypatch.setattr(api.call_list, "PAGE_ROWS", page_rows)  # keyset paging: same text
    response = john.get("/stats/call_list_to_csv/2", params={
        "call_type": "all", "date_from": "2026-11-20", "date_till": "2026-11-20"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="calls_2.csv"'
    assert response.text == (
        "date,called_from,called_to,destination,duration,hangup_cause,price,currency\r\n"
        "2026-11-20 10:00:00,37052000201,37061234567,Lithuania MOB,00:01:05,Answered,"
        "0.270833,USD\r\n"
        "2026-11-20 10:05:00,37052000201,447700900123,United Kingdom MOB,00:00:00,"
        "No Answer,0.0,USD\r\n"
        "2026-11-20 10:10:00,37052000201,4930123,Germany,00:00:00,Busy,0.0,USD\r\n"
        "2026-11-20 11:00:00,37052000301,37052000999,Lithuania,00:00:30,Answered,0.01,USD\r\n"
        "2026-11-20 11:30:00,37052000301,37052000999,Lithuania,00:00:00,No Answer,0.0,USD\r\n"
    )
    incoming = john.get("/stats/call_list_to_csv/2", params={
        "call_type": "incoming", "date_from": "2026-11-20", "date_till": "2026-11-20"}).text
    assert incoming.count("\r\n") == 3
    assert john.get("/stats/call_list_to_csv/2?call_type=loud").text == error(
        "Invalid parameter: call_type")


def test_pdf_export(john: TestClient) -> None:
    response = john.get("/stats/call_list_to_pdf/2", params={
        "call_type": "all", "date_from": "2026-11-01", "date_till": "2026-11-30"})
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="calls_2.pdf"'
    assert response.content.startswith(b"%PDF-")
    again = john.get("/stats/call_list_to_pdf/2", params={
        "call_type": "all", "date_from": "2026-11-01", "date_till": "2026-11-30"})
    assert again.content == response.content  # deterministic


def test_new_calls(john: TestClient) -> None:
    def short(full: str) -> str:
        return "".join(line + "\n" for line in full.splitlines()
                       if "<destination>" not in line and "<price>" not in line)

    calls = [YESTERDAY, OUT1, OUT2, OUT3, IN1, IN2]
    assert john.get("/stats/new_calls_list").text == (
        f"{HEAD}<page>\n <pagename>Calls</pagename>\n <language>en</language>\n"
        " <error_msg></error_msg>\n <userid>2</userid>\n <calls_stat>\n"
        f"  <total_calls>6</total_calls>\n  <calls>\n{''.join(map(short, calls))}  </calls>\n"
        " </calls_stat>\n</page>\n"
    )


def test_not_logged_in(settings: Settings, sink: Processes) -> None:
    with TestClient(create_app(settings, clock=lambda: NOON)) as anonymous:
        assert "Please log in" in anonymous.get("/stats/call_list").text
        assert "Please log in" in anonymous.get("/callc/main").text


def test_the_main_page_counts_a_call_to_ones_own_did_once(settings: Settings) -> None:
    # user 3 (Ann) owns a DID of her own and calls it: made and received, one call
    client = connect(settings.clickhouse)
    insert(client, DIDS_TABLE, [("37052000333", 3, 0, 0, 0, 1, 0)])
    own = [cdr("self-answered", T0 + 7_200_000, 3, 11, "37052000333", "ANSWERED", 40,
               "Lithuania", "0", "37052000333"),
           cdr("self-missed", T0 + 7_300_000, 3, 11, "37052000333", "NO ANSWER", 0,
               "Lithuania", "0", "37052000333")]
    for _ in range(2):
        insert(client, "cdrs", [cdr_row(c) for c in own])
    day = (T0 // 1000 - 10 * 3600, T0 // 1000 + 14 * 3600)
    month = (day[0] - 19 * 86_400, day[1] + 10 * 86_400)
    stats = main_stats(client, 3, month, day)
    # Ann's answered calls today: in1 to John's DID (30 s), ann1 (20 s) and self-answered
    # (40 s) once, not also as received (that would be 4 calls, 130 s); missed: self-missed
    assert (stats.day_calls, stats.day_seconds, stats.missed_today) == (3, 90, 1)
