"""Invoice events and the invoice rule (docs/invoices.md).

`cdrflow invoices issue` publishes `invoice_issued`, keyed by the user; `invoice_paid`
marks an invoice paid. An invoice's id and number follow from its user and month, so
issuing a month again can only replace that invoice, never add a second one.

The rule, per user and calendar month of the user's time zone:
- calls: the sum of the user prices of the calls that started in the month;
- subscriptions: each subscription active on some day of the month is charged
  price x active days / days in the month (the whole price when active every day),
  rounded half-up to 6 decimals; a day counts when the subscription is active at any
  moment of it;
- price = calls + subscriptions; price_with_vat = price + price x vat_percent / 100,
  rounded half-up to 6 decimals (vat_percent is the user's tax_percent).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rating.fields import integer, money, text
from streams.subscription_events import Service, Subscription, decimals

ISSUED = "invoice_issued"
PAID = "invoice_paid"
CREDIT_NOTE_CREATED = "credit_note_created"
MAX_NUMBER = 50  # a credit note's number
MAX_COMMENT = 255
DECIMALS = 6
MICRO = Decimal(1).scaleb(-DECIMALS)
MAX_MONEY = Decimal(10) ** 12  # the invoices columns are Decimal(18, 6)
MAX_USER_ID = 2**53 // 1_000_000 - 1  # invoice ids stay below 2**53
_CURRENCY = re.compile(r"[A-Z]{3}")
_PERIOD = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar month; its moments depend on the time zone it is read in."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def bounds(self, zone: tzinfo) -> tuple[int, int]:
        """[start, end) of the month in `zone`, epoch milliseconds."""
        following = (Period(self.year + 1, 1) if self.month == 12
                     else Period(self.year, self.month + 1))
        return self.day_start(1, zone), following.day_start(1, zone)

    def day_start(self, day: int, zone: tzinfo) -> int:
        return int(datetime(self.year, self.month, day, tzinfo=zone).timestamp() * 1000)


def parse_period(value: str) -> Period:
    """`2026-11` -> Period(2026, 11); raises ValueError for anything else."""
    found = _PERIOD.fullmatch(value.strip())
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1971:
        raise ValueError(f"a period is a month like 2026-11, got {value!r}")
    return Period(int(found[1]), int(found[2]))


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: int
    user_id: int
    number: str
    period_start_ms: int  # inclusive
    period_end_ms: int  # exclusive
    issued_ms: int
    calls_price: Decimal
    subscriptions_price: Decimal
    price: Decimal  # VAT excluded
    vat_percent: Decimal
    price_with_vat: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class InvoicePayment:
    invoice_id: int
    user_id: int
    paid_ms: int


def invoice_id(user_id: int, period: Period) -> int:
    """The id of a user's invoice for a month: user_id, then YYYYMM (2, 2026-11 ->
    2202611)."""
    if user_id > MAX_USER_ID:
        raise ValueError(f"user id {user_id} is too large for an invoice id")
    return user_id * 1_000_000 + period.year * 100 + period.month


def invoice_number(user_id: int, period: Period) -> str:
    """`INV-2026-11-000002`: the month, then the user id."""
    return f"INV-{period.year:04d}-{period.month:02d}-{user_id:06d}"


def active_days(subscription: Subscription, period: Period, zone: tzinfo) -> int:
    """The days of the month (in `zone`) on which the subscription is active at some
    moment."""
    starts = [period.day_start(day, zone) for day in range(1, period.days + 1)]
    ends = [*starts[1:], period.bounds(zone)[1]]
    return sum(subscription.active_between(start, end)
               for start, end in zip(starts, ends, strict=True))


def subscription_charge(subscription: Subscription, service: Service, period: Period,
                        zone: tzinfo) -> Decimal:
    """What a subscription costs in a month: the service's monthly price for the days it
    is active, rounded half-up to 6 decimals."""
    days = active_days(subscription, period, zone)
    if days == period.days:
        return service.price
    return (service.price * days / period.days).quantize(MICRO, ROUND_HALF_UP)


def with_vat(price: Decimal, vat_percent: Decimal) -> Decimal:
    """The price with VAT added, rounded half-up to 6 decimals: 10 at 15% -> 11.5."""
    return (price + price * vat_percent / 100).quantize(MICRO, ROUND_HALF_UP)


def build_invoice(user_id: int, period: Period, zone: tzinfo, *, calls_price: Decimal,
                  subscriptions_price: Decimal, vat_percent: Decimal, currency: str,
                  issued_ms: int) -> Invoice:
    start_ms, end_ms = period.bounds(zone)
    price = calls_price + subscriptions_price
    return Invoice(invoice_id(user_id, period), user_id, invoice_number(user_id, period),
                   start_ms, end_ms, issued_ms, calls_price, subscriptions_price, price,
                   vat_percent, with_vat(price, vat_percent), currency)


def issued_event(invoice: Invoice) -> dict[str, Any]:
    """The fields of `invoice_issued` (money as decimal strings)."""
    return {
        "invoice_id": invoice.invoice_id, "user_id": invoice.user_id,
        "number": invoice.number, "period_start_ms": invoice.period_start_ms,
        "period_end_ms": invoice.period_end_ms, "issued_ms": invoice.issued_ms,
        "calls_price": str(invoice.calls_price),
        "subscriptions_price": str(invoice.subscriptions_price),
        "price": str(invoice.price), "vat_percent": str(invoice.vat_percent),
        "price_with_vat": str(invoice.price_with_vat), "currency": invoice.currency,
    }


def invoice_issued(event: dict[str, Any]) -> Invoice:
    invoice = Invoice(
        integer(event, "invoice_id"), integer(event, "user_id"), text(event, "number"),
        integer(event, "period_start_ms"), integer(event, "period_end_ms"),
        integer(event, "issued_ms"), money(event, "calls_price"),
        money(event, "subscriptions_price"), money(event, "price"),
        money(event, "vat_percent", "0"), money(event, "price_with_vat"),
        text(event, "currency"))
    problem = _invoice_problem(invoice)
    if problem is not None:
        raise ValueError(f"{ISSUED}: {problem}")
    return invoice


def invoice_paid(event: dict[str, Any]) -> InvoicePayment:
    payment = InvoicePayment(integer(event, "invoice_id"), integer(event, "user_id"),
                             integer(event, "paid_ms"))
    if payment.invoice_id == 0 or payment.paid_ms == 0:
        raise ValueError(f"{PAID}: invoice_id and paid_ms must not be 0")
    return payment


@dataclass(frozen=True, slots=True)
class CreditNote:
    """Money the operator owes back to a user (credit_note_create): it lowers what the
    user owes on the financial statement; it does not move the balance."""

    user_id: int
    number: str  # unique per user: a later event with the same number replaces it
    price: Decimal  # VAT excluded, in `currency` (the user's)
    vat_percent: Decimal
    price_with_vat: Decimal
    currency: str
    issued_ms: int
    comment: str
    created_ms: int


def credit_note_created(event: dict[str, Any]) -> CreditNote:
    note = CreditNote(
        integer(event, "user_id"), text(event, "number"), money(event, "price"),
        money(event, "vat_percent", "0"), money(event, "price_with_vat"),
        text(event, "currency"), integer(event, "issued_ms"), text(event, "comment", ""),
        integer(event, "created_ms"))
    problem = credit_note_problem(note)
    if problem is not None:
        raise ValueError(f"{CREDIT_NOTE_CREATED}: {problem}")
    return note


def credit_note_problem(note: CreditNote) -> str | None:
    """Why a credit note cannot be recorded, or None when it can."""
    if not note.number or len(note.number) > MAX_NUMBER or note.number != note.number.strip():
        return f"number must be 1 to {MAX_NUMBER} characters without surrounding spaces"
    if note.price <= 0 or note.price >= MAX_MONEY or decimals(note.price) > DECIMALS:
        return f"price must be above 0 and below {MAX_MONEY} with at most {DECIMALS} decimals"
    problem = _vat_problem(note.price, note.vat_percent, note.price_with_vat, note.currency)
    if problem is not None:
        return problem
    if note.issued_ms == 0 or note.created_ms == 0:
        return "issued_ms and created_ms must be moments after 1970"
    if len(note.comment) > MAX_COMMENT:
        return f"comment must be at most {MAX_COMMENT} characters"
    return None


def _invoice_problem(invoice: Invoice) -> str | None:
    if invoice.invoice_id == 0 or not invoice.number:
        return "invoice_id and number must be given"
    if invoice.period_end_ms <= invoice.period_start_ms or invoice.issued_ms == 0:
        return "the period must end after it starts, and issued_ms must be given"
    amounts = {"calls_price": invoice.calls_price,
               "subscriptions_price": invoice.subscriptions_price,
               "price": invoice.price, "price_with_vat": invoice.price_with_vat}
    for name, amount in amounts.items():
        if abs(amount) >= MAX_MONEY or decimals(amount) > DECIMALS:
            return f"{name} must be below {MAX_MONEY} with at most {DECIMALS} decimals"
    if invoice.price != invoice.calls_price + invoice.subscriptions_price:
        return "price must be calls_price + subscriptions_price"
    return _vat_problem(invoice.price, invoice.vat_percent, invoice.price_with_vat,
                        invoice.currency)


def _vat_problem(price: Decimal, vat_percent: Decimal, price_with_vat: Decimal,
                 currency: str) -> str | None:
    """What is wrong with a document's VAT, price with VAT and currency, if anything."""
    if not 0 <= vat_percent < 100 or decimals(vat_percent) > 4:
        return "vat_percent must be from 0 to below 100 with at most 4 decimals"
    if price_with_vat != with_vat(price, vat_percent):
        return "price_with_vat must be price plus VAT, rounded half-up to 6 decimals"
    if not _CURRENCY.fullmatch(currency):
        return f"currency must be an ISO 4217 code like USD, got {currency!r}"
    return None


PARSERS = {ISSUED: invoice_issued, PAID: invoice_paid,
           CREDIT_NOTE_CREATED: credit_note_created}
