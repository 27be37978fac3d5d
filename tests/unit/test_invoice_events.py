"""The invoice rule (periods, proration, VAT, ids) and the invoice events."""

from __future__ import annotations

import argparse
from dataclasses import fields
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cdrflow import invoice_command
from projections import account_tables, credit_notes, invoices
from streams.account_events import account_event, parse_account_event
from streams.invoice_events import (
    CREDIT_NOTE_CREATED,
    ISSUED,
    PAID,
    CreditNote,
    Invoice,
    InvoicePayment,
    Period,
    active_days,
    build_invoice,
    invoice_id,
    invoice_number,
    issued_event,
    parse_period,
    subscription_charge,
    with_vat,
)
from streams.subscription_events import Service, Subscription

UTC = ZoneInfo("UTC")
VILNIUS = ZoneInfo("Europe/Vilnius")
OCTOBER = Period(2026, 10)
OCT_1 = 1_790_812_800_000  # 2026-10-01 00:00 UTC
NOV_1 = 1_793_491_200_000  # 2026-11-01 00:00 UTC
DAY = 86_400_000
SERVICE = Service(5, "Static IP", Decimal(10), "USD")


def sub(start_ms: int, end_ms: int = 0) -> Subscription:
    return Subscription(9, 2, 5, start_ms, start_ms, end_ms)


def test_periods_parse_and_have_zone_dependent_bounds() -> None:
    assert parse_period(" 2026-10 ") == OCTOBER
    assert str(OCTOBER) == "2026-10"
    assert OCTOBER.days == 31 and Period(2028, 2).days == 29
    assert OCTOBER.bounds(UTC) == (OCT_1, NOV_1)
    # Vilnius: UTC+3 until the last Sunday of October, UTC+2 after
    assert OCTOBER.bounds(VILNIUS) == (OCT_1 - 3 * 3_600_000, NOV_1 - 2 * 3_600_000)
    assert Period(2026, 12).bounds(UTC)[1] == 1_798_761_600_000  # 2027-01-01


@pytest.mark.parametrize("value", ["2026-13", "2026-00", "2026-1", "26-10", "1970-01", "x"])
def test_bad_periods_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="a period is a month like 2026-11"):
        parse_period(value)


def test_ids_and_numbers_follow_from_user_and_month() -> None:
    assert invoice_id(2, OCTOBER) == 2_202_610
    assert invoice_id(2, Period(2026, 11)) != invoice_id(2, OCTOBER)
    assert invoice_id(0, OCTOBER) == 202_610
    assert invoice_number(2, OCTOBER) == "INV-2026-10-000002"
    assert invoice_number(1_234_567, OCTOBER) == "INV-2026-10-1234567"
    with pytest.raises(ValueError, match="too large"):
        invoice_id(2**53, OCTOBER)


@pytest.mark.parametrize(("subscription", "days", "charge"), [
    (sub(OCT_1 - 40 * DAY), 31, Decimal(10)),  # open-ended, from before: the whole price
    (sub(OCT_1 + 15 * DAY + 3_600_000), 16, Decimal("5.161290")),  # from Oct 16 01:00
    (sub(OCT_1, OCT_1 + 10 * DAY), 10, Decimal("3.225806")),  # Oct 1-10, end exclusive
    (sub(OCT_1, OCT_1 + 10 * DAY + 1), 11, Decimal("3.548387")),  # a moment of Oct 11
    (sub(OCT_1 - DAY, OCT_1), 0, Decimal("0.000000")),  # ended as October began
    (sub(NOV_1 - 1), 1, Decimal("0.322581")),  # the last millisecond of October
])
def test_subscriptions_are_charged_for_the_days_they_are_active(
        subscription: Subscription, days: int, charge: Decimal) -> None:
    assert active_days(subscription, OCTOBER, UTC) == days
    assert subscription_charge(subscription, SERVICE, OCTOBER, UTC) == charge


def test_days_are_the_users_local_days() -> None:
    late_on_sept_30_utc = sub(OCT_1 - 3_600_000)  # 2026-10-01 02:00 in Vilnius
    assert active_days(late_on_sept_30_utc, OCTOBER, UTC) == 31
    assert active_days(sub(OCT_1 + 30 * DAY + 23 * 3_600_000), OCTOBER, UTC) == 1
    assert active_days(sub(OCT_1 + 30 * DAY + 23 * 3_600_000), OCTOBER, VILNIUS) == 0


def test_vat_is_added_exactly_then_rounded_half_up_to_6_decimals() -> None:
    assert with_vat(Decimal(10), Decimal(15)) == Decimal("11.5")
    assert with_vat(Decimal("0.000005"), Decimal(10)) == Decimal("0.000006")  # 0.0000055
    assert with_vat(Decimal("1.234567"), Decimal("21")) == Decimal("1.493826")
    assert with_vat(Decimal(0), Decimal(21)) == 0


def october_invoice() -> Invoice:
    return build_invoice(2, OCTOBER, UTC, calls_price=Decimal("1.5"),
                         subscriptions_price=Decimal("15.161290"), vat_percent=Decimal(21),
                         currency="USD", issued_ms=NOV_1 + DAY)


def test_an_invoice_is_built_and_round_trips_through_its_event() -> None:
    invoice = october_invoice()
    assert invoice == Invoice(2_202_610, 2, "INV-2026-10-000002", OCT_1, NOV_1, NOV_1 + DAY,
                              Decimal("1.5"), Decimal("15.161290"), Decimal("16.661290"),
                              Decimal(21), Decimal("20.160161"), "USD")
    event = account_event(ISSUED, **issued_event(invoice))
    assert event["price_with_vat"] == "20.160161" and event["number"] == "INV-2026-10-000002"
    assert parse_account_event(event) == invoice
    assert list(account_tables.rows_of(invoice, 11)) == [
        ("invoices", (2_202_610, 2, 0, "INV-2026-10-000002", OCT_1, NOV_1, NOV_1 + DAY,
                      Decimal("1.5"), Decimal("15.161290"), Decimal("16.661290"),
                      Decimal(21), Decimal("20.160161"), "USD", 0, 11))]
    assert len(invoices.COLUMNS) == len(fields(Invoice)) + 3  # kind, paid_ms, version
    assert account_tables.TABLES["invoices"] == invoices.COLUMNS


def test_a_payment_parses_to_its_own_row() -> None:
    paid = parse_account_event(account_event(PAID, invoice_id=2_202_610, user_id=2,
                                             paid_ms=NOV_1 + 2 * DAY))
    assert paid == InvoicePayment(2_202_610, 2, NOV_1 + 2 * DAY)
    zero = Decimal(0)
    assert list(account_tables.rows_of(paid, 12)) == [
        ("invoices", (2_202_610, 2, 1, "", 0, 0, 0, zero, zero, zero, zero, zero, "",
                      NOV_1 + 2 * DAY, 12))]
    with pytest.raises(ValueError, match="invoice_paid: invoice_id and paid_ms"):
        parse_account_event(account_event(PAID, invoice_id=2_202_610, user_id=2, paid_ms=0))


@pytest.mark.parametrize(("change", "reason"), [
    ({"price": "16.66"}, "price must be calls_price \\+ subscriptions_price"),
    ({"price_with_vat": "20.16016"}, "price_with_vat must be price plus VAT"),
    ({"calls_price": "1.5000001"}, "calls_price must be below .* with at most 6 decimals"),
    ({"vat_percent": "100"}, "vat_percent must be from 0 to below 100"),
    ({"currency": "dollars"}, "currency must be an ISO 4217 code"),
    ({"period_end_ms": OCT_1}, "the period must end after it starts"),
    ({"number": ""}, "invoice_id and number must be given"),
])
def test_bad_invoices_are_refused(change: dict[str, Any], reason: str) -> None:
    event = account_event(ISSUED, **issued_event(october_invoice()))
    event.update(change)
    with pytest.raises(ValueError, match=f"invoice_issued: {reason}"):
        parse_account_event(event)


def test_the_command_parses_its_arguments() -> None:
    parser = argparse.ArgumentParser(prog="cdrflow")
    invoice_command.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["invoices", "issue", "--period", "2026-10", "--user", "2"])
    assert (args.invoices_command, args.period, args.user, args.reissue) == (
        "issue", "2026-10", 2, False)
    paid = parser.parse_args(["invoices", "paid", "INV-2026-10-000002"])
    assert (paid.invoices_command, paid.number) == ("paid", "INV-2026-10-000002")



def credit_note_event(**changes: Any) -> dict[str, Any]:
    body = account_event(CREDIT_NOTE_CREATED, user_id=2, number="CN-1", price="10",
                         vat_percent="21", price_with_vat="12.1", currency="USD",
                         issued_ms=NOV_1, comment="Refund", created_ms=NOV_1 + DAY)
    body.update(changes)
    return body


def test_a_credit_note_parses_to_its_record_and_row() -> None:
    note = parse_account_event(credit_note_event())
    assert note == CreditNote(2, "CN-1", Decimal(10), Decimal(21), Decimal("12.1"), "USD",
                              NOV_1, "Refund", NOV_1 + DAY)
    assert list(account_tables.rows_of(note, 9)) == [
        ("credit_notes", (2, "CN-1", Decimal(10), Decimal(21), Decimal("12.1"), "USD", NOV_1,
                          "Refund", NOV_1 + DAY, 9))]
    assert len(credit_notes.COLUMNS) == len(fields(CreditNote)) + 1
    assert account_tables.TABLES[credit_notes.TABLE] == credit_notes.COLUMNS


@pytest.mark.parametrize(("changes", "reason"), [
    ({"number": ""}, "number must be 1 to 50"),
    ({"number": " CN"}, "without surrounding spaces"),
    ({"number": "N" * 51}, "number must be 1 to 50"),
    ({"price": "0", "price_with_vat": "0"}, "price must be above 0"),
    ({"price": "-1", "price_with_vat": "-1.21"}, "price must be above 0"),
    ({"price": "0.0000001"}, "at most 6 decimals"),
    ({"vat_percent": "100"}, "vat_percent"),
    ({"price_with_vat": "12"}, "price_with_vat must be price plus VAT"),
    ({"currency": "usd"}, "ISO 4217"),
    ({"issued_ms": 0}, "issued_ms and created_ms"),
    ({"comment": "c" * 256}, "comment must be at most 255"),
])
def test_a_bad_credit_note_is_refused(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_account_event(credit_note_event(**changes))
