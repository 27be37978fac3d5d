"""The payments table: rows from payment_created, and the reads of the Payments page and
of payments_get."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clickhouse_driver import Client

from streams.payment_events import Payment

TABLE = "payments"
COLUMNS = ("payment_id", "user_id", "amount", "currency", "vat_percent", "payment_type",
           "paid_ms", "confirmed_ms", "completed", "transaction_id", "payer", "comment",
           "version")
_SELECT = ", ".join(COLUMNS[:-1])


def rows(payment: Payment, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (payment.payment_id, payment.user_id, payment.amount, payment.currency,
                  payment.vat_percent, payment.payment_type, payment.paid_ms,
                  payment.confirmed_ms, int(payment.completed), payment.transaction_id,
                  payment.payer, payment.comment, version)


def payments(client: Client, user_id: int) -> list[Payment]:
    """A user's payments, oldest first."""
    found = client.execute(
        f"SELECT {_SELECT} FROM {TABLE} FINAL WHERE user_id = %(user_id)s "
        "ORDER BY paid_ms, payment_id",
        {"user_id": user_id},
    )
    return [_payment(row) for row in found]


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    """payments_get's search. `owner_id`: only that user's and the users it owns (a
    reseller's scope); `user_id`: only that user's. Names match case-insensitively as
    substrings; the other texts exactly."""

    owner_id: int | None = None
    user_id: int | None = None
    paid_from_ms: int | None = None  # inclusive
    paid_till_ms: int | None = None  # inclusive
    transaction_id: str | None = None
    completed: bool | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    payment_type: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    currency: str | None = None


def payment_list(client: Client, where: PaymentFilter) -> list[Payment]:
    """The payments `where` selects, oldest first."""
    conditions, params = ["1"], {}
    plain = {
        "user_id": ("user_id = %(user_id)s", where.user_id),
        "paid_from": ("paid_ms >= %(paid_from)s", where.paid_from_ms),
        "paid_till": ("paid_ms <= %(paid_till)s", where.paid_till_ms),
        "transaction_id": ("transaction_id = %(transaction_id)s", where.transaction_id),
        "completed": ("completed = %(completed)s",
                      None if where.completed is None else int(where.completed)),
        "payment_type": ("payment_type = %(payment_type)s", where.payment_type),
        "amount_min": ("amount >= toDecimal64(%(amount_min)s, 6)",
                       None if where.amount_min is None else str(where.amount_min)),
        "amount_max": ("amount <= toDecimal64(%(amount_max)s, 6)",
                       None if where.amount_max is None else str(where.amount_max)),
        "currency": ("currency = %(currency)s", where.currency),
    }
    for name, (condition, value) in plain.items():
        if value is not None:
            conditions.append(condition)
            params[name] = value
    users = []
    if where.owner_id is not None:
        users.append("(user_id = %(owner_id)s OR owner_id = %(owner_id)s)")
        params["owner_id"] = where.owner_id
    for column in ("username", "first_name", "last_name"):
        value = getattr(where, column)
        if value is not None:
            users.append(f"position(lowerUTF8({column}), %({column})s) > 0")
            params[column] = value.lower()
    if users:
        conditions.append("user_id IN (SELECT user_id FROM users FINAL WHERE "
                          f"{' AND '.join(users)})")
    found = client.execute(
        f"SELECT {_SELECT} FROM {TABLE} FINAL WHERE {' AND '.join(conditions)} "
        "ORDER BY paid_ms, payment_id",
        params,
    )
    return [_payment(row) for row in found]


def _payment(row: tuple[Any, ...]) -> Payment:
    (payment_id, user_id, amount, currency, vat_percent, payment_type, paid_ms,
     confirmed_ms, completed, transaction_id, payer, comment) = row
    return Payment(int(payment_id), int(user_id), Decimal(amount), str(currency),
                   Decimal(vat_percent), str(payment_type), int(paid_ms), int(confirmed_ms),
                   bool(completed), str(transaction_id), str(payer), str(comment))
