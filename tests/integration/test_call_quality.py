"""call_quality_get over the real ClickHouse: exact XML per destination and per provider,
role scoping and errors. Users and CDRs are inserted directly, every CDR twice, and one
call is re-rated with a higher version: each call counts once, as last rated.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.rows import cdr_row, user_row
from projections.writer import insert
from rating.cdr import Cdr
from rating.reference import Account
from tests.integration.conftest import SECRET

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC
DAY = {"period_start": "1795132800", "period_end": "1795219199"}  # 2026-11-20, UTC
URL = "/billing/api/call_quality_get"
PROVIDERS = {5: "Carrier A", 6: "Carrier B"}

USERS = [
    Account(0, "admin", "System", "Admin", "admin", 0, "USD", 1, "UTC"),
    Account(2, "john", "John", "Smith", "user", 0, "USD", 1, "UTC"),
    Account(3, "ann", "Ann", "Jones", "user", 0, "USD", 1, "UTC"),
    Account(5, "res", "Rex", "Seller", "reseller", 0, "USD", 1, "UTC"),
    Account(6, "rita", "Rita", "Client", "user", 5, "USD", 1, "UTC"),
    Account(7, "acc", "Al", "Counter", "accountant", 0, "USD", 1, "UTC"),
]


def cdr(call_id: str, minute: int, user_id: int, destination: str, provider_id: int,
        disposition: str, cause: int, billsec: int = 0) -> Cdr:
    start = T0 + minute * 60_000
    return Cdr(call_id=call_id, version=1, start_ms=start,
               answer_ms=start + 2000 if billsec else 0, end_ms=start + (billsec + 5) * 1000,
               user_id=user_id, device_id=user_id * 10, server_id=1, uniqueid=call_id,
               channel="SIP/x", src=f"3705200{user_id:04d}", dst="4930123456", clid="",
               disposition=disposition, hangup_cause=cause, duration=billsec + 5,
               billsec=billsec, user_billsec=billsec, prefix="49", destination=destination,
               tariff_id=1, tariff_version=1, currency="USD", user_rate=Decimal("0.1"),
               user_price=Decimal(0), provider_id=provider_id,
               provider_name=PROVIDERS[provider_id])


CDRS = [
    cdr("g1", 0, 2, "Germany", 5, "ANSWERED", 16, 60),
    cdr("g2", 1, 2, "Germany", 5, "ANSWERED", 16, 31),
    cdr("g3", 2, 2, "Germany", 5, "FAILED", 34),  # re-rated below: BUSY(17)
    cdr("g4", 3, 6, "Germany", 5, "FAILED", 34),  # no circuit: a network failure
    cdr("g5", 4, 6, "Germany", 5, "FAILED", 21),  # rejected before ringing: the user's
    cdr("f1", 5, 3, "France MOB", 6, "NO ANSWER", 19),
    cdr("f2", 6, 6, "France MOB", 6, "ANSWERED", 16, 100),
    cdr("f3", 7, 3, "France MOB", 6, "FAILED", 38),  # network out of order
    cdr("u1", 8, 2, "USA", 5, "FAILED", 1),  # unallocated number: counts against NER
    cdr("old", -1440, 2, "Germany", 5, "ANSWERED", 16, 600),  # the day before
]
RERATED = replace(CDRS[2], version=2, disposition="BUSY", hangup_cause=17)


@pytest.fixture(scope="module")
def data(settings: Settings) -> None:
    client = connect(settings.clickhouse)
    insert(client, "users", [user_row(account, 1) for account in USERS])
    rows = [cdr_row(c) for c in CDRS]
    insert(client, "cdrs", rows)
    insert(client, "cdrs", [*rows, cdr_row(RERATED)])  # delivered twice, g3 re-rated


def ask(api: TestClient, u: str, **params: str) -> str:
    hashed = [params[name] for name in ("s_user", "period_start", "period_end", "group_by")
              if name in params]
    answer = api.post(URL, data={"u": u, **params, "hash": mor_hash(hashed, SECRET)})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/xml; charset=utf-8"
    return answer.text


def row(name: str, *figures: object, provider_id: int | None = None) -> str:
    first = f"    <provider_id>{provider_id}</provider_id>\n" if provider_id is not None else ""
    return f"   <row>\n{first}    <name>{name}</name>\n{lines(figures, '    ')}   </row>\n"


def lines(figures: tuple[object, ...], indent: str) -> str:
    names = ("attempts", "answered", "billsec", "asr", "acd", "ner")
    return "".join(f"{indent}<{n}>{v}</{n}>\n" for n, v in zip(names, figures, strict=True))


def document(rows: list[str], totals: tuple[object, ...], *, user: str = "all",
             group_by: str = "destination", start: str = "2026-11-20 00:00:00",
             end: str = "2026-11-20 23:59:59") -> str:
    listed = f"  <rows>\n{''.join(rows)}  </rows>\n" if rows else "  <rows></rows>\n"
    return (f"{HEAD}<page>\n <call_quality>\n  <period>\n   <start>{start}</start>\n"
            f"   <end>{end}</end>\n  </period>\n  <user>{user}</user>\n"
            f"  <group_by>{group_by}</group_by>\n{listed}"
            f"  <totals>\n{lines(totals, '   ')}  </totals>\n </call_quality>\n</page>\n")


def test_admin_per_destination(data: None, api: TestClient) -> None:
    assert ask(api, "admin", **DAY) == document([
        row("Germany", 5, 2, 91, "40.00", "45.50", "80.00"),
        row("France MOB", 3, 1, 100, "33.33", "100.00", "66.67"),
        row("USA", 1, 0, 0, "0.00", "0.00", "0.00"),
    ], (9, 3, 191, "33.33", "63.67", "66.67"))


def test_admin_per_provider(data: None, api: TestClient) -> None:
    assert ask(api, "admin", **DAY, group_by="provider") == document([
        row("Carrier A", 6, 2, 91, "33.33", "45.50", "66.67", provider_id=5),
        row("Carrier B", 3, 1, 100, "33.33", "100.00", "66.67", provider_id=6),
    ], (9, 3, 191, "33.33", "63.67", "66.67"), group_by="provider")


def test_period_bounds_are_inclusive(data: None, api: TestClient) -> None:
    # 10:00:00 to 10:02:00: g1, g2 and g3 (BUSY as re-rated)
    assert ask(api, "admin", period_start="1795168800", period_end="1795168920") == document(
        [row("Germany", 3, 2, 91, "66.67", "45.50", "100.00")],
        (3, 2, 91, "66.67", "45.50", "100.00"),
        start="2026-11-20 10:00:00", end="2026-11-20 10:02:00")
    assert ask(api, "admin", period_start="1795219200", period_end="1795219200") == document(
        [], (0, 0, 0, "0.00", "0.00", "0.00"),
        start="2026-11-21 00:00:00", end="2026-11-21 00:00:00")


def test_the_period_defaults_to_today_in_the_callers_zone(
        settings: Settings, data: None) -> None:
    noon = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with TestClient(create_app(settings, clock=lambda: noon)) as client:
        assert ask(client, "john") == document([
            row("Germany", 3, 2, 91, "66.67", "45.50", "100.00"),
            row("USA", 1, 0, 0, "0.00", "0.00", "0.00"),
        ], (4, 2, 91, "50.00", "45.50", "75.00"))


def test_a_user_sees_only_their_own_calls(data: None, api: TestClient) -> None:
    john = document([
        row("Germany", 3, 2, 91, "66.67", "45.50", "100.00"),
        row("USA", 1, 0, 0, "0.00", "0.00", "0.00"),
    ], (4, 2, 91, "50.00", "45.50", "75.00"))
    assert ask(api, "john", **DAY) == john
    assert ask(api, "john", **DAY, s_user="ALL") == john.replace("all</user>", "ALL</user>")
    assert ask(api, "john", s_user="2", **DAY) == john.replace(
        "<user>all</user>", "<user>2</user>")
    assert ask(api, "john", s_user="3", **DAY) == f"{HEAD}<error>User was not found</error>\n"
    assert ask(api, "john", **DAY, group_by="provider") == (
        f"{HEAD}<error>You are not authorized to use this functionality</error>\n")


def test_a_reseller_sees_their_own_and_their_users_calls(data: None, api: TestClient) -> None:
    rita = [row("Germany", 2, 0, 0, "0.00", "0.00", "50.00"),
            row("France MOB", 1, 1, 100, "100.00", "100.00", "100.00")]
    totals = (3, 1, 100, "33.33", "100.00", "66.67")
    assert ask(api, "res", **DAY) == document(rita, totals)
    assert ask(api, "res", s_user="6", **DAY) == document(rita, totals, user="6")
    assert ask(api, "res", s_user="5", **DAY) == document(
        [], (0, 0, 0, "0.00", "0.00", "0.00"), user="5")
    assert ask(api, "res", s_user="2", **DAY) == f"{HEAD}<error>User was not found</error>\n"


def test_an_accountant_reads_everyone(data: None, api: TestClient) -> None:
    assert ask(api, "acc", s_user="3", **DAY, group_by="Provider") == document([
        row("Carrier B", 2, 0, 0, "0.00", "0.00", "50.00", provider_id=6),
    ], (2, 0, 0, "0.00", "0.00", "50.00"), user="3", group_by="provider")


def test_errors(data: None, api: TestClient) -> None:
    def error(text: str) -> str:
        return f"{HEAD}<error>{text}</error>\n"

    assert ask(api, "admin", s_user="77", **DAY) == error("User was not found")
    assert ask(api, "admin", s_user="x", **DAY) == error("User was not found")
    assert ask(api, "admin", period_start="yesterday") == error(
        "Invalid parameter: period_start")
    assert ask(api, "admin", period_start="1", period_end="253402128001") == error(
        "Invalid parameter: period_end")
    assert ask(api, "admin", **DAY, group_by="country") == error("Invalid parameter: group_by")
    assert ask(api, "nobody", **DAY) == error("Access Denied")
    wrong = api.post(URL, data={"u": "admin", **DAY, "hash": "0" * 40})
    assert wrong.text == error("Incorrect hash")
    assert api.get(URL, params={"u": "admin"}).text == error("GET Requests are disabled")
