"""payment_created: checks, exact VAT, the projection's rows and the command's refusals."""

from __future__ import annotations

import argparse
from dataclasses import fields
from decimal import Decimal
from typing import Any

import orjson
import pytest

from api.personal import amount, credit, payment_type
from cdrflow import payment_command
from cdrflow.settings import Settings
from projections import account_tables, payments
from projections.queries import User
from streams.account_events import account_event, parse_account_event
from streams.payment_events import CREATED, Payment, created_fields, with_vat


def event(**changes: Any) -> dict[str, Any]:
    body = account_event(CREATED, payment_id=7, user_id=2, amount="10.50", currency="USD",
                         vat_percent="15", payment_type="manual", paid_ms=1_700_000_000_000,
                         confirmed_ms=1_700_000_060_000, completed=True)
    body.update(changes)
    return body


def test_a_payment_parses_to_its_record_and_row() -> None:
    payment = parse_account_event(event())
    assert payment == Payment(7, 2, Decimal("10.50"), "USD", Decimal(15), "manual",
                              1_700_000_000_000, 1_700_000_060_000, True)
    assert list(account_tables.rows_of(payment, 42)) == [
        ("payments", (7, 2, Decimal("10.50"), "USD", Decimal(15), "manual",
                      1_700_000_000_000, 1_700_000_060_000, 1, "", "", "", 42))]
    assert len(payments.COLUMNS) == len(fields(Payment)) + 1
    assert account_tables.TABLES[payments.TABLE] == payments.COLUMNS


def test_defaults_vat_type_confirmation_and_completion() -> None:
    body = event()
    for name in ("vat_percent", "payment_type", "confirmed_ms", "completed"):
        del body[name]
    assert parse_account_event(body) == Payment(7, 2, Decimal("10.50"), "USD", Decimal(0),
                                                "manual", 1_700_000_000_000, 0, True)


def test_only_a_correction_may_be_negative() -> None:
    payment = parse_account_event(event(amount="-2.5", payment_type="correction"))
    assert isinstance(payment, Payment) and payment.amount == Decimal("-2.5")


@pytest.mark.parametrize(("changes", "reason"), [
    ({"amount": "0"}, "amount must be above 0"),
    ({"amount": "-1"}, "amount must be above 0"),
    ({"amount": "ten"}, "not a decimal number"),
    ({"amount": 10}, "amount must be a string"),
    ({"amount": "NaN"}, "must be finite"),
    ({"amount": "0.0000001"}, "at most 6 decimals"),
    ({"amount": "1000000000000"}, "must be below"),
    ({"currency": "usd"}, "ISO 4217"),
    ({"currency": "USDT"}, "ISO 4217"),
    ({"vat_percent": "100"}, "vat_percent"),
    ({"vat_percent": "-1"}, "vat_percent"),
    ({"payment_type": "Manual"}, "payment_type"),
    ({"payment_type": ""}, "payment_type"),
    ({"payment_id": 0}, "payment_id must not be 0"),
    ({"paid_ms": 0}, "paid_ms"),
    ({"completed": "yes"}, "completed must be true or false"),
    ({"user_id": -1}, "user_id"),
])
def test_bad_payments_are_refused_with_the_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_account_event(event(**changes))


@pytest.mark.parametrize(("value", "vat", "gross"), [
    ("10", "15", "11.5"), ("20", "15.0", "23"), ("0.1", "18", "0.118"),
    ("999999999999.999999", "99.9999", "1999998999999.999998000001"), ("3", "0", "3"),
])
def test_amount_with_vat_is_exact(value: str, vat: str, gross: str) -> None:
    assert with_vat(Decimal(value), Decimal(vat)) == Decimal(gross)
    assert amount(with_vat(Decimal(value), Decimal(vat))) == gross


@pytest.mark.parametrize(("value", "shown"), [
    ("100", "100"), ("100.000000", "100"), ("11.50", "11.5"), ("0", "0"), ("-0.25", "-0.25"),
    ("1E+2", "100"), ("0.000001", "0.000001"),
])
def test_amounts_show_as_mor_shows_them(value: str, shown: str) -> None:
    assert amount(Decimal(value)) == shown


def test_credit_and_payment_type_texts() -> None:
    assert credit(Decimal(-1)) == "No Limit"
    assert credit(Decimal("50.000000")) == "50"
    assert payment_type("manual") == "Manual" and payment_type("paypal") == "Paypal"


JOHN = User(2, "john", "John", "Smith", "user", 0, "USD", "UTC")


def command(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    payment_command.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["payment", "add", *argv])


@pytest.mark.parametrize(("argv", "message"), [
    (["--user", "9", "--amount", "1"], "user 9 was not found"),
    (["--user", "2", "--amount", "1", "--currency", "EUR"], "pays in USD, not EUR"),
    (["--user", "2", "--amount", "0"], "amount must be above 0"),
    (["--user", "2", "--amount", "ten"], "amount and vat must be decimals"),
    (["--user", "2", "--amount", "1", "--vat", "120"], "vat_percent"),
    (["--user", "2", "--amount", "-1"], "only a correction may be negative"),
])
def test_the_command_refuses_before_publishing(argv: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = payment_command.run(Settings(), command(*argv),
                               lambda _, user_id: JOHN if user_id == 2 else None)
    assert code == 1
    err = capsys.readouterr().err
    assert message in err and "nothing was published" in err


def test_payment_create_details_parse_and_project() -> None:
    payment = parse_account_event(event(transaction_id="tx-9", payer="a@b.lt",
                                        comment="Thanks"))
    assert isinstance(payment, Payment)
    assert (payment.transaction_id, payment.payer, payment.comment) == ("tx-9", "a@b.lt",
                                                                        "Thanks")
    assert [row[9:] for _, row in account_tables.rows_of(payment, 5)] == [
        ("tx-9", "a@b.lt", "Thanks", 5)]
    assert parse_account_event(account_event(CREATED, **created_fields(payment))) == payment


def test_payment_details_are_at_most_255_characters() -> None:
    with pytest.raises(ValueError, match="payer must be at most 255 characters"):
        parse_account_event(event(payer="x" * 256))


WAITING = Payment(77, 2, Decimal("8.5"), "USD", Decimal(21), "paypal", 1_700_000_000_000,
                  0, False, "tx-1", "j@x.lt", "hi")


def confirm_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    payment_command.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["payment", "confirm", *argv])


def test_confirm_republishes_the_payment_completed_and_confirmed(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    sent: list[tuple[str, list[tuple[bytes, bytes]]]] = []
    monkeypatch.setattr(payment_command, "publish_now",
                        lambda settings, topic, records: sent.append((topic, records)))
    code = payment_command.run(Settings(), confirm_args("--user", "2", "--payment-id", "77"),
                               find_payment=lambda _, user, pid: WAITING
                               if (user, pid) == (2, 77) else None)
    assert code == 0 and len(sent) == 1
    key, value = sent[0][1][0]
    confirmed = parse_account_event(orjson.loads(value))
    assert key == b"2" and isinstance(confirmed, Payment)
    assert confirmed.completed and confirmed.confirmed_ms >= WAITING.paid_ms
    assert confirmed == Payment(77, 2, Decimal("8.5"), "USD", Decimal(21), "paypal",
                                1_700_000_000_000, confirmed.confirmed_ms, True, "tx-1",
                                "j@x.lt", "hi")
    assert "confirmed" in capsys.readouterr().out


def test_confirm_refuses_an_unknown_payment_and_skips_a_confirmed_one(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    sent: list[object] = []
    monkeypatch.setattr(payment_command, "publish_now", lambda *args: sent.append(args))
    args = confirm_args("--user", "2", "--payment-id", "78")
    assert payment_command.run(Settings(), args, find_payment=lambda *_: None) == 1
    assert "has no payment 78; nothing was published" in capsys.readouterr().err
    done = Payment(78, 2, Decimal(1), "USD", Decimal(0), "manual", 1, 2, True)
    assert payment_command.run(Settings(), args, find_payment=lambda *_: done) == 0
    assert "already confirmed" in capsys.readouterr().out
    assert sent == []
