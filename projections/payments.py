"""The payments table: rows from payment_created, and the reads of the Payments page."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from clickhouse_driver import Client

from streams.payment_events import Payment

TABLE = "payments"
COLUMNS = ("payment_id", "user_id", "amount", "currency", "vat_percent", "payment_type",
           "paid_ms", "confirmed_ms", "completed", "version")


def rows(payment: Payment, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (payment.payment_id, payment.user_id, payment.amount, payment.currency,
                  payment.vat_percent, payment.payment_type, payment.paid_ms,
                  payment.confirmed_ms, int(payment.completed), version)


def payments(client: Client, user_id: int) -> list[Payment]:
    """A user's payments, oldest first."""
    found = client.execute(
        f"SELECT {', '.join(COLUMNS[:-1])} FROM {TABLE} FINAL WHERE user_id = %(user_id)s "
        "ORDER BY paid_ms, payment_id",
        {"user_id": user_id},
    )
    return [_payment(row) for row in found]


def _payment(row: tuple[Any, ...]) -> Payment:
    (payment_id, user_id, amount, currency, vat_percent, payment_type, paid_ms,
     confirmed_ms, completed) = row
    return Payment(int(payment_id), int(user_id), Decimal(amount), str(currency),
                   Decimal(vat_percent), str(payment_type), int(paid_ms), int(confirmed_ms),
                   bool(completed))
