"""invoices_get, credit_note_create and financial_statements_get (docs/api.md; the
invoice and credit note events in docs/invoices.md).

invoices_get keeps MOR's legacy capitalised shape (`<Invoices>`, `<Invoice>`,
`<Error>`): every error it answers, the shared rules' included, is a capitalised
`<Error>` (Envelope.CAPITALISED), and an unknown `u` is `user not found`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from api.access import can_see
from api.errors import ApiError, ErrorKind
from api.methods import MANAGERS, Envelope, MethodCall, MorMethod
from api.payment_methods import MICRO, managed_user, now_ms, scope, text_param
from api.user_calls import user_zone
from api.xml import Node, moment_ms, money, render
from projections.credit_notes import credit_note_exists, financial_records
from projections.invoices import UserInvoice, invoices_within
from projections.queries import User, user_by_id
from projections.tariff_rates import exchange_rates
from streams.account_events import account_event, encoded
from streams.invoice_events import (
    CREDIT_NOTE_CREATED,
    MAX_COMMENT,
    MAX_NUMBER,
    CreditNote,
    credit_note_created,
)
from streams.invoice_events import with_vat as invoice_vat
from streams.payment_events import Payment
from streams.payment_events import with_vat as payment_vat
from streams.topics import ACCOUNT_EVENTS

log = logging.getLogger(__name__)

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
STATUSES = ("paid", "unpaid", "all")


def day_or_seconds(call: MethodCall, name: str, zone: tzinfo, *,
                   end_of_day: bool = False) -> int | None:
    """Epoch milliseconds of a `YYYY-MM-DD` date (its first moment in `zone`, or its
    last millisecond with `end_of_day`) or of unix seconds; None when absent."""
    value = call.text(name).strip()
    found = _DATE.fullmatch(value)
    if found is None:
        seconds = call.seconds(name) if value else None
        if seconds is None:
            return None
        return seconds * 1000 + (999 if end_of_day else 0)
    try:
        day = datetime(int(found[1]), int(found[2]), int(found[3]), tzinfo=zone)
        if end_of_day:
            day += timedelta(days=1)
        epoch_ms = int(day.timestamp() * 1000) - (1 if end_of_day else 0)
    except (ValueError, OverflowError):
        raise ApiError(ErrorKind.INVALID_PARAMETER, name) from None
    if epoch_ms < 0:  # before 1970: no document is that old
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return epoch_ms


# invoices_get


async def invoices_get(call: MethodCall) -> str:
    context, caller = call.context, call.caller
    zone = user_zone(caller.timezone)
    start = call.seconds("from") or 0
    end = call.seconds("till")
    if end is None:
        end = int(call.now().timestamp())
    text_param(call, "lang", 10)  # accepted; the products are named in English
    owner_id, user_id = scope(caller)
    found = await context.query(invoices_within, start * 1000, end * 1000 + 1000,
                                owner_id=owner_id, user_id=user_id)
    if not found:
        raise ApiError(ErrorKind.NO_INVOICES)
    users = await context.blocking(context.read().users_by_ids,
                                   {i.invoice.user_id for i in found})
    return render(Node("Invoices", [_invoice_node(i, users.get(i.invoice.user_id))
                                    for i in found],
                       (("from", moment_ms(start * 1000, zone)),
                        ("till", moment_ms(end * 1000, zone)))))


def _invoice_node(listed: UserInvoice, user: User | None) -> Node:
    invoice = listed.invoice
    zone = user_zone(user.timezone if user else "")
    issued = moment_ms(invoice.issued_ms, zone)
    parts = [("Calls", invoice.calls_price), ("Subscriptions", invoice.subscriptions_price)]
    shown = [(name, price) for name, price in parts if not price.is_zero()] or parts[:1]
    products = [Node("Product", [
        Node("Name", name), Node("Quantity", "1"), Node("Price", money(price)),
        Node("Discount", money(Decimal(0))), Node("Sum", money(price)),
        Node("Date_added", issued), Node("Issue_date", issued),
    ]) for name, price in shown]
    attrs = (("user_id", invoice.user_id), ("number", invoice.number),
             ("period_start", moment_ms(invoice.period_start_ms, zone)),
             ("period_end", moment_ms(invoice.period_end_ms - 1000, zone)),
             ("currency", invoice.currency), ("price", money(invoice.price)),
             ("price_with_vat", money(invoice.price_with_vat)))
    return Node("Invoice", [Node("id", str(invoice.invoice_id)),
                            Node("paid", "1" if listed.paid_ms else "0"), *products], attrs)


# credit_note_create


def in_user_currency(price: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal:
    """A system-currency price in `currency` (rates: units of a currency per unit of the
    system currency), rounded half-up to 6 decimals; ApiError when no rate is known."""
    rate = rates.get(currency)
    if rate is None:
        raise ApiError(ErrorKind.CREDIT_NOTE_NOT_CREATED)
    return (price * rate).quantize(MICRO, ROUND_HALF_UP)


async def credit_note_create(call: MethodCall) -> str:
    target = await managed_user(call, call.required_id("user_id", ErrorKind.USER_NOT_FOUND),
                                ErrorKind.USER_NOT_FOUND)
    number = call.text("number").strip()
    if not number or len(number) > MAX_NUMBER:
        raise ApiError(ErrorKind.CREDIT_NOTE_NOT_CREATED)
    price = call.amount("price")
    if price is None:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "price")
    created_ms = now_ms(call)
    issued_ms = day_or_seconds(call, "issue_date", user_zone(target.timezone)) or created_ms
    comment = text_param(call, "comment", MAX_COMMENT)
    if price <= 0:
        raise ApiError(ErrorKind.CREDIT_NOTE_NOT_CREATED)
    if await call.context.query(credit_note_exists, target.user_id, number):
        raise ApiError(ErrorKind.CREDIT_NOTE_NOT_CREATED)
    rates = await call.context.query(exchange_rates, created_ms)
    local = in_user_currency(price, target.currency, rates)
    event = account_event(
        CREDIT_NOTE_CREATED, user_id=target.user_id, number=number, price=format(local, "f"),
        vat_percent=format(target.tax_percent, "f"),
        price_with_vat=format(invoice_vat(local, target.tax_percent), "f"),
        currency=target.currency, issued_ms=issued_ms, comment=comment,
        created_ms=created_ms)
    try:
        credit_note_created(event)
        await call.context.append(ACCOUNT_EVENTS, *encoded(target.user_id, event))
    except Exception:
        log.exception("api: credit note %r of user %s not created", number, target.user_id)
        raise ApiError(ErrorKind.CREDIT_NOTE_NOT_CREATED) from None
    return render(Node("status", [Node("success", "Credit note was created")]))


# financial_statements_get


@dataclass(frozen=True, slots=True)
class Statement:
    kind: str  # invoices, credit_notes, payments
    count: int
    price: Decimal
    price_with_vat: Decimal


def statements(invoices: Sequence[UserInvoice], notes: Iterable[CreditNote],
               payments: Iterable[Payment], *, currency: str, status: str, start_ms: int,
               end_ms: int | None) -> list[Statement]:
    """The three statements of a user: invoices by issue date (paid once invoice_paid),
    credit notes by issue date (never paid: an open credit), payments by payment date
    (paid once completed); only documents in `currency`, within [start_ms, end_ms]."""

    def wanted(at_ms: int, paid: bool, in_currency: str) -> bool:
        return (in_currency == currency and at_ms >= start_ms
                and (end_ms is None or at_ms <= end_ms)
                and (status == "all" or paid == (status == "paid")))

    chosen_invoices = [i.invoice for i in invoices
                       if wanted(i.invoice.issued_ms, i.paid_ms > 0, i.invoice.currency)]
    chosen_notes = [n for n in notes if wanted(n.issued_ms, False, n.currency)]
    chosen_payments = [p for p in payments if wanted(p.paid_ms, p.completed, p.currency)]
    return [
        Statement("invoices", len(chosen_invoices),
                  sum((i.price for i in chosen_invoices), Decimal(0)),
                  sum((i.price_with_vat for i in chosen_invoices), Decimal(0))),
        Statement("credit_notes", len(chosen_notes),
                  sum((n.price for n in chosen_notes), Decimal(0)),
                  sum((n.price_with_vat for n in chosen_notes), Decimal(0))),
        Statement("payments", len(chosen_payments),
                  sum((p.amount for p in chosen_payments), Decimal(0)),
                  sum((payment_vat(p.amount, p.vat_percent) for p in chosen_payments),
                      Decimal(0))),
    ]


async def financial_statements_get(call: MethodCall) -> str:
    target = call.caller
    user_id = call.identifier("user_id")
    if user_id is not None and user_id != call.caller.user_id:
        other = await call.context.query(user_by_id, user_id)
        if other is None or not can_see(call.caller, other):
            raise ApiError(ErrorKind.BAD_LOGIN)
        target = other
    status = call.text("status", "all").strip().lower()
    if status not in STATUSES:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "status")
    zone = user_zone(target.timezone)
    start = day_or_seconds(call, "date_from", zone) or 0
    end = day_or_seconds(call, "date_till", zone, end_of_day=True)
    invoices, notes, payments = await call.context.query(financial_records, target.user_id)
    found = statements(invoices, notes, payments, currency=target.currency, status=status,
                       start_ms=start, end_ms=end)
    return render(Node("page", [Node("financial_statement", [
        Node("statement", [Node("status", status), Node("count", str(s.count)),
                           Node("price", money(s.price)),
                           Node("price_with_vat", money(s.price_with_vat))],
             (("type", s.kind),))
        for s in found], (("currency", target.currency),))]))


METHODS: list[MorMethod] = [
    MorMethod("invoices_get", invoices_get, aliases=("invoices",),
              envelope=Envelope.CAPITALISED, unknown_caller=ErrorKind.INVOICES_USER_NOT_FOUND),
    MorMethod("credit_note_create", credit_note_create, hashed=("user_id", "number"),
              roles=MANAGERS, refused=ErrorKind.BAD_LOGIN, write=True,
              envelope=Envelope.STATUS),
    MorMethod("financial_statements_get", financial_statements_get, hashed=("user_id",),
              aliases=("financial_statements",), envelope=Envelope.PAGE),
]
