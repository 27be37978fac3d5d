"""invoices_get, credit_note_create and financial_statements_get over an in-memory
reader: golden XML for each role and each documented error."""

from __future__ import annotations

import warnings
from decimal import Decimal
from typing import Any

import pytest

from api.app import create_app
from api.hash import mor_hash
from api.invoice_methods import Statement, statements
from cdrflow.settings import Settings
from projections.credit_notes import credit_note_exists, financial_records
from projections.invoices import UserInvoice, invoices_within
from projections.tariff_rates import exchange_rates
from streams.account_events import parse_account_event
from streams.invoice_events import CreditNote, Invoice
from streams.payment_events import Payment
from tests.unit.test_payment_methods import (
    HEAD,
    NOW,
    NOW_MS,
    P1,
    SECRET,
    ListAppender,
    MoneyReader,
    ask,
    page_error,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

OCT_1_VILNIUS = 1_790_802_000_000  # 2026-10-01 00:00 Europe/Vilnius
NOV_1_VILNIUS = 1_793_484_000_000
ISSUED = 1_795_430_400_000  # 2026-11-23 10:40:00 UTC
JOHN_OCTOBER = Invoice(2_202_610, 2, "INV-2026-10-000002", OCT_1_VILNIUS, NOV_1_VILNIUS,
                       ISSUED, Decimal("1.583333"), Decimal("12.322581"),
                       Decimal("13.905914"), Decimal(21), Decimal("16.826156"), "USD")
BOB_OCTOBER = Invoice(6_202_610, 6, "INV-2026-10-000006", 1_790_812_800_000,
                      1_793_491_200_000, ISSUED, Decimal("2.5"), Decimal(0), Decimal("2.5"),
                      Decimal(15), Decimal("2.875"), "EUR")


def capital(text: str) -> str:
    return f"{HEAD}<Error>{text}</Error>\n"


def product(name: str, price: str, issued: str) -> str:
    return (f"    <Product>\n      <Name>{name}</Name>\n      <Quantity>1</Quantity>\n"
            f"      <Price>{price}</Price>\n      <Discount>0.0</Discount>\n"
            f"      <Sum>{price}</Sum>\n      <Date_added>{issued}</Date_added>\n"
            f"      <Issue_date>{issued}</Issue_date>\n    </Product>\n")


JOHN_INVOICE = (
    '  <Invoice user_id="2" number="INV-2026-10-000002" period_start="2026-10-01 00:00:00"'
    ' period_end="2026-10-31 23:59:59" currency="USD" price="13.905914"'
    ' price_with_vat="16.826156">\n    <id>2202610</id>\n    <paid>1</paid>\n'
    + product("Calls", "1.583333", "2026-11-23 12:40:00")
    + product("Subscriptions", "12.322581", "2026-11-23 12:40:00") + "  </Invoice>\n")
BOB_INVOICE = (
    '  <Invoice user_id="6" number="INV-2026-10-000006" period_start="2026-10-01 00:00:00"'
    ' period_end="2026-10-31 23:59:59" currency="EUR" price="2.5"'
    ' price_with_vat="2.875">\n    <id>6202610</id>\n    <paid>0</paid>\n'
    + product("Calls", "2.5", "2026-11-23 10:40:00") + "  </Invoice>\n")


def invoices_reader(*found: UserInvoice) -> MoneyReader:
    return MoneyReader({invoices_within: lambda start, end, **scope: list(found)})


def invoices(params: dict[str, str], reader: MoneyReader, hash_: str | None = None,
             name: str = "invoices_get", **settings: Any) -> str:
    app = create_app(Settings(api_secret=SECRET).with_(**settings),
                     reader=reader, clock=lambda: NOW)
    with TestClient(app) as client:
        return client.post(f"/billing/api/{name}", data={
            **params, "hash": hash_ or mor_hash([], SECRET)}).text


@pytest.mark.parametrize("name", ["invoices_get", "invoices"])
def test_invoices_get_lists_invoices_in_the_capitalised_shape(name: str) -> None:
    reader = invoices_reader(UserInvoice(JOHN_OCTOBER, ISSUED + 1), UserInvoice(BOB_OCTOBER, 0))
    answer = invoices({"u": "admin", "from": "1790000000", "till": "1794000000",
                       "lang": "en"}, reader, name=name)
    assert answer == (f'{HEAD}<Invoices from="2026-09-21 14:13:20" till="2026-11-06 '
                      f'21:20:00">\n{JOHN_INVOICE}{BOB_INVOICE}</Invoices>\n')
    assert reader.asked[-1][1:] == ((1_790_000_000_000, 1_794_000_001_000),
                                    {"owner_id": None, "user_id": None})


@pytest.mark.parametrize(("caller", "scope"), [
    ("acc", {"owner_id": None, "user_id": None}),
    ("res", {"owner_id": 5, "user_id": None}),
    ("john", {"owner_id": None, "user_id": 2}),
])
def test_invoices_get_is_limited_to_what_the_caller_sees(caller: str,
                                                         scope: dict[str, Any]) -> None:
    reader = invoices_reader(UserInvoice(BOB_OCTOBER, 0))
    answer = invoices({"u": caller, "from": "0", "till": "1794000000"}, reader)
    assert answer.endswith(f"{BOB_INVOICE}</Invoices>\n")
    assert reader.asked[-1][2] == scope


def test_invoices_get_defaults_from_the_beginning_till_now() -> None:
    reader = invoices_reader(UserInvoice(BOB_OCTOBER, 0))
    invoices({"u": "admin"}, reader)
    assert reader.asked[-1][1] == (0, NOW_MS + 1000)


@pytest.mark.parametrize(("params", "hash_", "settings", "text"), [
    ({"u": "admin"}, None, {}, "No invoices found"),
    ({"u": "nobody"}, None, {}, "user not found"),
    ({}, None, {}, "user not found"),
    ({"u": "admin"}, "0" * 40, {}, "Incorrect hash"),
    ({"u": "admin"}, None, {"allow_api": False}, "API Requests are disabled"),
    ({"u": "admin", "from": "x"}, None, {}, "Invalid parameter: from"),
    ({"u": "admin"}, None, {"api_ip_restrict": True}, "Access Denied"),
])
def test_invoices_get_errors(params: dict[str, str], hash_: str | None,
                             settings: dict[str, Any], text: str) -> None:
    assert invoices(params, invoices_reader(), hash_, **settings) == capital(text)


def test_invoices_get_by_get_while_get_is_disabled_is_a_capitalised_error() -> None:
    app = create_app(Settings(api_secret=SECRET), reader=invoices_reader())
    with TestClient(app) as client:
        answer = client.get("/billing/api/invoices_get",
                            params={"u": "admin", "hash": mor_hash([], SECRET)}).text
    assert answer == capital("GET Requests are disabled")


# credit_note_create

NOTE_HASHED = ("user_id", "number")
CREATED = f"{HEAD}<status>\n  <success>Credit note was created</success>\n</status>\n"


def status_error(text: str) -> str:
    return f"{HEAD}<status>\n  <error>{text}</error>\n</status>\n"


def notes_reader(exists: bool = False) -> MoneyReader:
    return MoneyReader({credit_note_exists: lambda user_id, number: exists,
                        exchange_rates: lambda at_ms: {"USD": Decimal(1),
                                                       "EUR": Decimal("0.8")}})


def test_credit_note_create_appends_the_credit_note_in_the_users_currency() -> None:
    appender = ListAppender()
    answer = ask("credit_note_create", {"u": "res", "user_id": "6", "number": "CN-7",
                                        "price": "10", "issue_date": "2026-11-02",
                                        "comment": "Outage"}, NOTE_HASHED, notes_reader(),
                 appender)
    assert answer == CREATED
    event = appender.records[0][2]
    assert appender.records[0][:2] == ("account-events", b"6")
    assert event == {"schema": "cdrflow.account-event/1", "type": "credit_note_created",
                     "user_id": 6, "number": "CN-7", "price": "8.000000",
                     "vat_percent": "15", "price_with_vat": "9.200000", "currency": "EUR",
                     "issued_ms": 1_793_577_600_000, "comment": "Outage",
                     "created_ms": NOW_MS}
    assert parse_account_event(event) == CreditNote(
        6, "CN-7", Decimal(8), Decimal(15), Decimal("9.2"), "EUR", 1_793_577_600_000,
        "Outage", NOW_MS)


def test_credit_note_issue_date_defaults_to_now_and_takes_seconds() -> None:
    appender = ListAppender()
    for params in ({}, {"issue_date": "1794009600"}):
        assert ask("credit_note_create", {"u": "admin", "user_id": "2", "number": "CN-1",
                                          "price": "1.5", **params}, NOTE_HASHED,
                   notes_reader(), appender) == CREATED
    assert [r[2]["issued_ms"] for r in appender.records] == [NOW_MS, 1_794_009_600_000]
    assert appender.records[0][2]["price_with_vat"] == "1.815000"


@pytest.mark.parametrize(("caller", "params", "text"), [
    ("john", {"user_id": "2"}, "Bad login"),
    ("acc", {"user_id": "2"}, "Bad login"),
    ("res", {"user_id": "2"}, "User was not found"),
    ("admin", {"user_id": "99"}, "User was not found"),
    ("admin", {}, "User was not found"),
    ("admin", {"user_id": "2", "number": ""}, "Credit note was not created"),
    ("admin", {"user_id": "2", "number": "N" * 51}, "Credit note was not created"),
    ("admin", {"user_id": "2", "price": "0"}, "Credit note was not created"),
    ("admin", {"user_id": "2", "price": "0.0000001"}, "Credit note was not created"),
    ("admin", {"user_id": "2", "price": ""}, "Invalid parameter: price"),
    ("admin", {"user_id": "2", "issue_date": "2026-02-30"}, "Invalid parameter: issue_date"),
    ("admin", {"user_id": "2", "comment": "c" * 256}, "Invalid parameter: comment"),
])
def test_credit_note_create_refusals(caller: str, params: dict[str, str], text: str) -> None:
    appender = ListAppender()
    answer = ask("credit_note_create", {"u": caller, "number": "CN-1", "price": "1",
                                        **params}, NOTE_HASHED, notes_reader(), appender)
    assert answer == status_error(text)
    assert appender.records == []


def test_credit_note_number_used_or_currency_without_rate_is_not_created() -> None:
    answer = ask("credit_note_create", {"u": "admin", "user_id": "2", "number": "CN-1",
                                        "price": "1"}, NOTE_HASHED, notes_reader(exists=True))
    assert answer == status_error("Credit note was not created")
    no_rate = MoneyReader({credit_note_exists: lambda *_: False,
                           exchange_rates: lambda at_ms: {"USD": Decimal(1)}})
    answer = ask("credit_note_create", {"u": "admin", "user_id": "6", "number": "CN-1",
                                        "price": "1"}, NOTE_HASHED, no_rate)
    assert answer == status_error("Credit note was not created")
    answer = ask("credit_note_create", {"u": "admin", "user_id": "2", "number": "CN-1",
                                        "price": "1"}, NOTE_HASHED, notes_reader(),
                 ListAppender(fail=True))
    assert answer == status_error("Credit note was not created")


def test_credit_note_create_wrong_hash() -> None:
    answer = ask("credit_note_create", {"u": "admin", "user_id": "2", "number": "CN-1",
                                        "price": "1"}, ("user_id",), notes_reader())
    assert answer == status_error("Incorrect hash")


# financial_statements_get

NOTE = CreditNote(2, "CN-1", Decimal(2), Decimal(21), Decimal("2.42"), "USD",
                  ISSUED + 1, "", ISSUED + 1)
PENDING = Payment(103, 2, Decimal(4), "USD", Decimal(21), "paypal", ISSUED + 5_000, 0, False)
OTHER_CURRENCY = Payment(104, 2, Decimal(9), "EUR", Decimal(0), "manual", ISSUED, ISSUED,
                         True)
RECORDS = ([UserInvoice(JOHN_OCTOBER, ISSUED + 9)], [NOTE], [P1, PENDING, OTHER_CURRENCY])


def statement(kind: str, status: str, count: int, price: str, with_vat: str) -> str:
    return (f'    <statement type="{kind}">\n      <status>{status}</status>\n'
            f"      <count>{count}</count>\n      <price>{price}</price>\n"
            f"      <price_with_vat>{with_vat}</price_with_vat>\n    </statement>\n")


def financial(currency: str, *rows: str) -> str:
    return (f'{HEAD}<page>\n  <financial_statement currency="{currency}">\n'
            f"{''.join(rows)}  </financial_statement>\n</page>\n")


def statements_reader() -> MoneyReader:
    return MoneyReader({financial_records: lambda user_id: RECORDS if user_id == 2
                        else ([], [], [])})


@pytest.mark.parametrize(("name", "caller", "params"), [
    ("financial_statements_get", "admin", {"user_id": "2"}),
    ("financial_statements", "acc", {"user_id": "2"}),
    ("financial_statements_get", "john", {}),
    ("financial_statements_get", "john", {"user_id": "2", "status": "ALL"}),
])
def test_financial_statements_all(name: str, caller: str, params: dict[str, str]) -> None:
    answer = ask(name, {"u": caller, **params}, ("user_id",), statements_reader())
    assert answer == financial(
        "USD", statement("invoices", "all", 1, "13.905914", "16.826156"),
        statement("credit_notes", "all", 1, "2.0", "2.42"),
        statement("payments", "all", 2, "14.0", "16.94"))


def test_financial_statements_paid_unpaid_and_dates() -> None:
    def get(**params: str) -> str:
        return ask("financial_statements_get", {"u": "admin", "user_id": "2", **params},
                   ("user_id",), statements_reader())

    assert get(status="paid") == financial(
        "USD", statement("invoices", "paid", 1, "13.905914", "16.826156"),
        statement("credit_notes", "paid", 0, "0.0", "0.0"),
        statement("payments", "paid", 1, "10.0", "12.1"))
    assert get(status="unpaid") == financial(
        "USD", statement("invoices", "unpaid", 0, "0.0", "0.0"),
        statement("credit_notes", "unpaid", 1, "2.0", "2.42"),
        statement("payments", "unpaid", 1, "4.0", "4.84"))
    # john's zone is Europe/Vilnius: 2026-11-23 ends at 21:59:59.999 UTC
    assert get(date_from="2026-11-23", date_till="2026-11-23") == financial(
        "USD", statement("invoices", "all", 1, "13.905914", "16.826156"),
        statement("credit_notes", "all", 1, "2.0", "2.42"),
        statement("payments", "all", 1, "4.0", "4.84"))
    assert get(date_from=str(ISSUED // 1000 + 1)) == financial(
        "USD", statement("invoices", "all", 0, "0.0", "0.0"),
        statement("credit_notes", "all", 0, "0.0", "0.0"),
        statement("payments", "all", 1, "4.0", "4.84"))


def test_a_reseller_sees_its_users_statement_in_their_currency() -> None:
    answer = ask("financial_statements_get", {"u": "res", "user_id": "6"}, ("user_id",),
                 statements_reader())
    assert answer == financial(
        "EUR", statement("invoices", "all", 0, "0.0", "0.0"),
        statement("credit_notes", "all", 0, "0.0", "0.0"),
        statement("payments", "all", 0, "0.0", "0.0"))


@pytest.mark.parametrize(("caller", "params", "text"), [
    ("john", {"user_id": "3"}, "Bad login"),
    ("res", {"user_id": "2"}, "Bad login"),
    ("admin", {"user_id": "99"}, "Bad login"),
    ("admin", {"user_id": "2", "status": "open"}, "Invalid parameter: status"),
    ("admin", {"user_id": "2", "date_from": "23.11.2026"}, "Invalid parameter: date_from"),
    ("admin", {"user_id": "x"}, "Invalid parameter: user_id"),
    ("admin", {"user_id": "2", "date_till": "9999-12-31"}, "Invalid parameter: date_till"),
    ("admin", {"user_id": "2", "date_from": "1969-12-31"}, "Invalid parameter: date_from"),
])
def test_financial_statements_refusals(caller: str, params: dict[str, str],
                                       text: str) -> None:
    answer = ask("financial_statements_get", {"u": caller, **params}, ("user_id",),
                 statements_reader())
    assert answer == page_error(text)


def test_financial_statements_wrong_hash() -> None:
    answer = ask("financial_statements_get", {"u": "admin", "user_id": "2"}, (),
                 statements_reader())
    assert answer == page_error("Incorrect hash")


def test_statements_skip_other_currencies() -> None:
    found = statements(*RECORDS, currency="EUR", status="all", start_ms=0, end_ms=None)
    assert found[2] == Statement("payments", 1, Decimal(9), Decimal(9))
    assert found[0] == Statement("invoices", 0, Decimal(0), Decimal(0))
