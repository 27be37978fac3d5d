"""The invoices table: rows from invoice events, and the reads of the invoice command
and the Invoices page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from clickhouse_driver import Client

from projections.queries import USER_SELECT, User, user_from_row
from projections.scope import scope_conditions
from streams.invoice_events import Invoice, InvoicePayment

TABLE = "invoices"
COLUMNS = ("invoice_id", "user_id", "kind", "number", "period_start_ms", "period_end_ms",
           "issued_ms", "calls_price", "subscriptions_price", "price", "vat_percent",
           "price_with_vat", "currency", "paid_ms", "version")
ISSUED, PAID = 0, 1  # the kinds of row
_ZERO = Decimal(0)
_INVOICE_COLUMNS = ", ".join(COLUMNS[:2] + COLUMNS[3:13])


def rows(invoice: Invoice, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (invoice.invoice_id, invoice.user_id, ISSUED, invoice.number,
                  invoice.period_start_ms, invoice.period_end_ms, invoice.issued_ms,
                  invoice.calls_price, invoice.subscriptions_price, invoice.price,
                  invoice.vat_percent, invoice.price_with_vat, invoice.currency, 0, version)


def payment_rows(payment: InvoicePayment,
                 version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (payment.invoice_id, payment.user_id, PAID, "", 0, 0, 0, _ZERO, _ZERO,
                  _ZERO, _ZERO, _ZERO, "", payment.paid_ms, version)


@dataclass(frozen=True, slots=True)
class UserInvoice:
    invoice: Invoice
    paid_ms: int  # 0: not paid


def invoices(client: Client, user_id: int) -> list[UserInvoice]:
    """A user's invoices, oldest period first, with when each was paid."""
    found = client.execute(
        f"SELECT {_INVOICE_COLUMNS} FROM {TABLE} FINAL "
        f"WHERE user_id = %(user_id)s AND kind = {ISSUED} ORDER BY period_start_ms, invoice_id",
        {"user_id": user_id},
    )
    paid = dict(client.execute(
        f"SELECT invoice_id, paid_ms FROM {TABLE} FINAL "
        f"WHERE user_id = %(user_id)s AND kind = {PAID}",
        {"user_id": user_id},
    ))
    return [UserInvoice(invoice, int(paid.get(invoice.invoice_id, 0)))
            for invoice in map(_invoice, found)]


def invoices_within(client: Client, start_ms: int, end_ms: int, *,
                    owner_id: int | None = None,
                    user_id: int | None = None) -> list[UserInvoice]:
    """The invoices whose period lies within [start_ms, end_ms) (invoices_get), by user
    then period; `owner_id`: only that user's and the users it owns; `user_id`: only
    that user's."""
    scope, params = scope_conditions(owner_id, user_id)
    conditions = ["period_start_ms >= %(start)s", "period_end_ms <= %(end)s", *scope]
    params.update(start=start_ms, end=end_ms)
    found = client.execute(
        f"SELECT {_INVOICE_COLUMNS} FROM {TABLE} FINAL WHERE kind = {ISSUED} AND "
        f"{' AND '.join(conditions)} ORDER BY user_id, period_start_ms, invoice_id",
        params,
    )
    listed = [_invoice(row) for row in found]
    if not listed:
        return []
    paid = dict(client.execute(
        f"SELECT invoice_id, paid_ms FROM {TABLE} FINAL WHERE kind = {PAID} "
        "AND invoice_id IN %(ids)s",
        {"ids": tuple(sorted({i.invoice_id for i in listed}))},
    ))
    return [UserInvoice(i, int(paid.get(i.invoice_id, 0))) for i in listed]


def invoice(client: Client, user_id: int, invoice_id: int) -> Invoice | None:
    found = client.execute(
        f"SELECT {_INVOICE_COLUMNS} FROM {TABLE} FINAL WHERE user_id = %(user_id)s "
        f"AND invoice_id = %(invoice_id)s AND kind = {ISSUED}",
        {"user_id": user_id, "invoice_id": invoice_id},
    )
    return _invoice(found[0]) if found else None


def calls_price(client: Client, user_id: int, start_ms: int, end_ms: int) -> Decimal:
    """The sum of the user prices of a user's calls that started in [start_ms, end_ms)
    (whole seconds; each call once: FINAL keeps the last rating of a redelivered CDR)."""
    found = client.execute(
        "SELECT toString(sum(user_price)) FROM cdrs FINAL WHERE user_id = %(user_id)s "
        "AND calldate >= toDateTime(%(start)s) AND calldate < toDateTime(%(end)s)",
        {"user_id": user_id, "start": start_ms // 1000, "end": end_ms // 1000},
    )
    return Decimal(found[0][0]) if found else _ZERO


def all_users(client: Client) -> list[User]:
    return [user_from_row(row) for row in
            client.execute(f"SELECT {USER_SELECT} FROM users FINAL ORDER BY user_id")]


def _invoice(row: tuple[Any, ...]) -> Invoice:
    (invoice_id, user_id, number, start_ms, end_ms, issued_ms, calls, subscriptions, price,
     vat_percent, with_vat, currency) = row
    return Invoice(int(invoice_id), int(user_id), str(number), int(start_ms), int(end_ms),
                   int(issued_ms), Decimal(calls), Decimal(subscriptions), Decimal(price),
                   Decimal(vat_percent), Decimal(with_vat), str(currency))


def utc(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms // 1000, tz=UTC)
