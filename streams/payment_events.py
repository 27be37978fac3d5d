"""Payment events: a payment recorded for a user (`cdrflow payment add`, docs/payments.md).

A payment is never edited in place: publishing `payment_created` again with the same
payment_id replaces the payment (the projection keeps the last one), which is how a
payment is later confirmed or completed, and why a redelivered event changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rating.fields import flag, integer, money, text

CREATED = "payment_created"
CORRECTION = "correction"  # the one payment type whose amount may be negative
MAX_AMOUNT = Decimal(10) ** 12  # the payments.amount column is Decimal(18, 6)
AMOUNT_DECIMALS = 6
VAT_DECIMALS = 4
MAX_TEXT = 255  # transaction_id, payer, comment
_CURRENCY = re.compile(r"[A-Z]{3}")
_PAYMENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,29}")


@dataclass(frozen=True, slots=True)
class Payment:
    payment_id: int
    user_id: int
    amount: Decimal  # what the payment adds to the balance, VAT excluded
    currency: str  # ISO 4217; the user's currency when it was recorded
    vat_percent: Decimal
    payment_type: str  # manual, paypal, correction...
    paid_ms: int
    confirmed_ms: int  # 0: not confirmed
    completed: bool
    transaction_id: str = ""  # the payment gateway's transaction (payment_create)
    payer: str = ""  # the payer's e-mail (payment_create)
    comment: str = ""  # shown to the user (payment_create's comments_for_user)


def payment_created(event: dict[str, Any]) -> Payment:
    payment = Payment(
        payment_id=integer(event, "payment_id"),
        user_id=integer(event, "user_id"),
        amount=money(event, "amount"),
        currency=text(event, "currency"),
        vat_percent=money(event, "vat_percent", "0"),
        payment_type=text(event, "payment_type", "manual"),
        paid_ms=integer(event, "paid_ms"),
        confirmed_ms=integer(event, "confirmed_ms", 0),
        completed=flag(event, "completed", True),
        transaction_id=text(event, "transaction_id", ""),
        payer=text(event, "payer", ""),
        comment=text(event, "comment", ""),
    )
    problem = check(payment)
    if problem is not None:
        raise ValueError(f"{CREATED}: {problem}")
    return payment


def check(payment: Payment) -> str | None:
    """Why a payment cannot be recorded, or None when it can. (Whether the currency is the
    user's is for the publisher to check: the event alone does not say.)"""
    if payment.payment_id == 0:
        return "payment_id must not be 0"
    if not _PAYMENT_TYPE.fullmatch(payment.payment_type):
        return "payment_type must be a lower-case word like manual or paypal"
    amount = payment.amount
    if amount.is_zero() or (amount < 0 and payment.payment_type != CORRECTION):
        return (f"amount must be above 0 (only a {CORRECTION} may be negative), "
                f"got {amount}")
    if abs(amount) >= MAX_AMOUNT or _decimals(amount) > AMOUNT_DECIMALS:
        return f"amount must be below {MAX_AMOUNT} with at most {AMOUNT_DECIMALS} decimals"
    if not _CURRENCY.fullmatch(payment.currency):
        return f"currency must be an ISO 4217 code like USD, got {payment.currency!r}"
    vat = payment.vat_percent
    if not 0 <= vat < 100 or _decimals(vat) > VAT_DECIMALS:
        return f"vat_percent must be from 0 to below 100 with at most {VAT_DECIMALS} decimals"
    if payment.paid_ms == 0:
        return "paid_ms must be a moment after 1970"
    for name in ("transaction_id", "payer", "comment"):
        if len(getattr(payment, name)) > MAX_TEXT:
            return f"{name} must be at most {MAX_TEXT} characters"
    return None


def created_fields(payment: Payment) -> dict[str, Any]:
    """The fields of the payment_created that records `payment` (money as strings)."""
    return {
        "payment_id": payment.payment_id, "user_id": payment.user_id,
        "amount": format(payment.amount, "f"), "currency": payment.currency,
        "vat_percent": format(payment.vat_percent, "f"), "payment_type": payment.payment_type,
        "paid_ms": payment.paid_ms, "confirmed_ms": payment.confirmed_ms,
        "completed": payment.completed, "transaction_id": payment.transaction_id,
        "payer": payment.payer, "comment": payment.comment,
    }


def with_vat(amount: Decimal, vat_percent: Decimal) -> Decimal:
    """The amount with VAT added, exact: 10 at 15% -> 11.5."""
    return amount + amount * vat_percent / 100


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


PARSERS = {CREATED: payment_created}
