"""The credit_notes table: rows from credit_note_created, and its reads."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from clickhouse_driver import Client

from projections.invoices import UserInvoice, invoices
from projections.payments import payments
from streams.invoice_events import CreditNote
from streams.payment_events import Payment

TABLE = "credit_notes"
COLUMNS = ("user_id", "number", "price", "vat_percent", "price_with_vat", "currency",
           "issued_ms", "comment", "created_ms", "version")
_SELECT = ", ".join(COLUMNS[:-1])


def rows(note: CreditNote, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (note.user_id, note.number, note.price, note.vat_percent,
                  note.price_with_vat, note.currency, note.issued_ms, note.comment,
                  note.created_ms, version)


def credit_notes(client: Client, user_id: int) -> list[CreditNote]:
    """A user's credit notes, oldest issue first."""
    found = client.execute(
        f"SELECT {_SELECT} FROM {TABLE} FINAL WHERE user_id = %(user_id)s "
        "ORDER BY issued_ms, number",
        {"user_id": user_id},
    )
    return [_note(row) for row in found]


def credit_note_exists(client: Client, user_id: int, number: str) -> bool:
    found = client.execute(
        f"SELECT count() FROM {TABLE} FINAL WHERE user_id = %(user_id)s "
        "AND number = %(number)s",
        {"user_id": user_id, "number": number},
    )
    return bool(found and found[0][0])


def financial_records(client: Client, user_id: int
                      ) -> tuple[list[UserInvoice], list[CreditNote], list[Payment]]:
    """A user's invoices, credit notes and payments (financial_statements_get)."""
    return invoices(client, user_id), credit_notes(client, user_id), payments(client, user_id)


def _note(row: tuple[Any, ...]) -> CreditNote:
    (user_id, number, price, vat_percent, price_with_vat, currency, issued_ms, comment,
     created_ms) = row
    return CreditNote(int(user_id), str(number), Decimal(price), Decimal(vat_percent),
                      Decimal(price_with_vat), str(currency), int(issued_ms), str(comment),
                      int(created_ms))
