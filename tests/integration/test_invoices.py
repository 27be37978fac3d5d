"""Services, subscriptions and monthly invoices, against the real Kafka and ClickHouse.

John lives in Vilnius (UTC+3 in summer time, UTC+2 from 2026-10-25) and pays 21% VAT,
so his October starts at 2026-09-30 21:00 UTC and ends at 2026-10-31 22:00 UTC.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from starlette.testclient import TestClient

from cdrflow.demo_data import account_events
from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.rows import cdr_row
from projections.writer import insert
from rating.cdr import Cdr
from streams.account_events import account_event, encoded
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS
from tests.integration.support import log_in, wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
VILNIUS = ZoneInfo("Europe/Vilnius")
UTC = ZoneInfo("UTC")


def ms(text: str, zone: ZoneInfo = VILNIUS) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp() * 1000)


def cdr(call_id: str, user_id: int, start_utc: str, price: str) -> Cdr:
    start = ms(start_utc, UTC)
    return Cdr(call_id, 1, start, start + 2000, start + 62_000, user_id, 10, 1, call_id,
               "SIP/201-1", "37052000201", "37061234567", "37052000201", "ANSWERED", 16, 62,
               60, 60, "3706", "Lithuania MOB", 1, 1, "USD", Decimal("0.25"), Decimal(price))


CDRS = [
    cdr("c-first", 2, "2026-09-30 21:30:00", "0.083333"),  # Oct 1 00:30 in Vilnius
    cdr("c-mid", 2, "2026-10-15 12:00:00", "1.5"),
    cdr("c-before", 2, "2026-09-30 20:59:59", "3"),  # Sep 30 23:59:59 in Vilnius
    cdr("c-after", 2, "2026-10-31 22:30:00", "7"),  # Nov 1 00:30 in Vilnius
    cdr("c-ann", 3, "2026-10-20 08:00:00", "2"),
]


def events() -> list[tuple[bytes, bytes]]:
    john = next(e for e in account_events() if e.get("username") == "john")
    updated = {**john, "type": "user_updated", "timezone": "Europe/Vilnius",
               "tax_percent": "21"}
    services = [
        account_event("service_created", service_id=5, name="Static IP", price="10.00",
                      currency="USD"),
        account_event("service_created", service_id=6, name="Voicemail <pro>", price="4.5",
                      currency="USD"),
    ]
    subscriptions: list[dict[str, Any]] = [
        account_event("subscription_added", subscription_id=703, user_id=2, service_id=6,
                      added_ms=ms("2026-07-20 10:00:00"),
                      activation_start_ms=ms("2026-08-01 00:00:00"),
                      activation_end_ms=ms("2026-09-01 00:00:00")),  # over before October
        account_event("subscription_added", subscription_id=701, user_id=2, service_id=5,
                      added_ms=ms("2026-08-25 09:15:00"),
                      activation_start_ms=ms("2026-09-01 00:00:00"),
                      activation_end_ms=0),  # all of October: 10
        account_event("subscription_added", subscription_id=702, user_id=2, service_id=6,
                      added_ms=ms("2026-10-10 14:00:00"),
                      activation_start_ms=ms("2026-10-16 00:00:00"),
                      activation_end_ms=ms("2026-11-01 00:00:00")),  # 16 of 31 days
    ]
    return ([(b"2", orjson.dumps(updated))] + [encoded(0, e) for e in services]
            + [encoded(2, e) for e in subscriptions])


def invoices_command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cdrflow.invoice_command", "invoices", *args],
                          text=True, capture_output=True, env={**os.environ, **settings.to_env()},
                          timeout=120, check=False)


def page(name: str, body: str) -> str:
    return (f"{HEAD}<page>\n <pagename>{name}</pagename>\n <language>en</language>\n"
            f" <userid>2</userid>\n{body}</page>\n")


def subscription(service: str, added: str, start: str, end: str, price: str) -> str:
    return (f"  <subscription>\n   <service>{service}</service>\n"
            f"   <date_added>{added}</date_added>\n   <acivation_start>{start}</acivation_start>\n"
            f"   <acivation_end>{end}</acivation_end>\n   <price>{price}</price>\n"
            "  </subscription>\n")


def invoice_page(paid: str, paid_date: str) -> str:
    return page("Invoices", (
        " <invoices>\n  <invoice>\n   <user>John Smith</user>\n"
        "   <inv_number>INV-2026-10-000002</inv_number>\n"
        "   <period_start>2026-10-01 00:00:00</period_start>\n"
        "   <period_end>2026-10-31 23:59:59</period_end>\n"
        "   <issue_date>T</issue_date>\n"
        f"   <paid>{paid}</paid>\n   <paid_date>{paid_date}</paid_date>\n"
        "   <price>13.905914</price>\n   <vat>21.0</vat>\n   <price_vat>16.826156</price_vat>\n"
        "  </invoice>\n </invoices>\n"))


def dates_hidden(text: str) -> str:
    """The page with issue and payment moments (now, when the test runs) as T."""
    return re.sub(r"<(issue_date|paid_date)>\d{4}-[^<]+</", r"<\1>T</", text)


def test_subscriptions_and_an_invoice_issued_once_then_paid(sink: object, api: TestClient,
                                                            settings: Settings) -> None:
    client = connect(settings.clickhouse)
    log_in(api)
    assert api.get("/services/user_subscriptions").text == page(
        "User subscriptions", " <subscriptions></subscriptions>\n")
    assert api.post("/accounting/user_invoices").text == page(
        "Invoices", " <invoices></invoices>\n")

    asyncio.run(publish(settings, ACCOUNT_EVENTS, events()))
    for _ in range(2):  # a CDR delivered twice is still one call
        insert(client, "cdrs", [cdr_row(c) for c in CDRS])
    wait_for(lambda: api.get("/services/user_subscriptions").text.count("<subscription>") == 3
             and client.execute("SELECT timezone FROM users FINAL WHERE user_id = 2")[0][0]
             == "Europe/Vilnius", 10, "subscriptions and john's new zone projected")
    assert api.get("/services/user_subscriptions").text == page("User subscriptions", (
        " <subscriptions>\n"
        + subscription("Voicemail &lt;pro&gt;", "2026-07-20 10:00:00", "2026-08-01 00:00:00",
                       "2026-09-01 00:00:00", "4.5 USD")
        + subscription("Static IP", "2026-08-25 09:15:00", "2026-09-01 00:00:00", "",
                       "10 USD")
        + subscription("Voicemail &lt;pro&gt;", "2026-10-10 14:00:00", "2026-10-16 00:00:00",
                       "2026-11-01 00:00:00", "4.5 USD")
        + " </subscriptions>\n"))

    not_over = invoices_command(settings, "issue", "--period", "2099-01", "--user", "2")
    assert not_over.returncode == 1
    assert not_over.stderr.startswith("user 2 (john): 2099-01 is not over yet in Europe/Vilnius")

    issued = invoices_command(settings, "issue", "--period", "2026-10")
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout == (
        "INV-2026-10-000002: calls 1.583333 + subscriptions 12.322581 = 13.905914 USD; "
        "VAT 21.0%: 16.826156 USD\n"
        "INV-2026-10-000003: calls 2.000000 + subscriptions 0.000000 = 2.000000 USD; "
        "VAT 0.0%: 2.000000 USD\n"
        "published 2 invoice_issued events\n")
    wait_for(lambda: "<invoice>" in api.get("/accounting/user_invoices").text, 10,
             "the invoice projected")
    assert dates_hidden(api.get("/accounting/user_invoices").text) == invoice_page("0", "")

    again = invoices_command(settings, "issue", "--period", "2026-10", "--user", "2")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "INV-2026-10-000002: already issued, left as it is\n"
    reissued = invoices_command(settings, "issue", "--period", "2026-10", "--user", "2",
                                "--reissue")
    assert reissued.returncode == 0, reissued.stderr
    assert reissued.stdout.endswith("published 1 invoice_issued events\n")

    paid = invoices_command(settings, "paid", "INV-2026-10-000002")
    assert paid.returncode == 0, paid.stderr
    assert paid.stdout == "published invoice_paid for INV-2026-10-000002\n"
    wait_for(lambda: "<paid>1</paid>" in api.get("/accounting/user_invoices").text, 10,
             "the payment projected")
    assert dates_hidden(api.get("/accounting/user_invoices").text) == invoice_page("1", "T")
    assert client.execute("SELECT count() FROM invoices FINAL WHERE user_id = 2 AND kind = 0"
                          )[0][0] == 1
    assert invoices_command(settings, "paid", "INV-2026-10-000009").stderr == (
        "no invoice INV-2026-10-000009\n")
