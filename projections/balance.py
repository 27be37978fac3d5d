"""A user's balance: completed payments minus the user's call charges (docs/payments.md).

Both sums read deduplicated tables (FINAL), so a payment event or a CDR delivered twice,
and a call rated twice, count once. Payments count only in the user's currency (the
currency of the user's prices, `cdrs.user_price`); another currency is shown on the
Payments page but never converted here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clickhouse_driver import Client

from projections import payments


def balance(client: Client, user_id: int) -> Decimal:
    """Completed payments in the user's currency minus the user's call charges, exact."""
    params = {"user_id": user_id}
    paid = client.execute(
        f"SELECT toString(sum(amount)) FROM {payments.TABLE} FINAL "
        "WHERE user_id = %(user_id)s AND completed = 1 AND currency IN "
        "(SELECT currency FROM users FINAL WHERE user_id = %(user_id)s)",
        params,
    )
    charged = client.execute(
        "SELECT toString(sum(user_price)) FROM cdrs FINAL WHERE user_id = %(user_id)s", params)
    return _decimal(paid) - _decimal(charged)


def _decimal(found: list[tuple[Any, ...]]) -> Decimal:
    return Decimal(found[0][0]) if found and found[0][0] else Decimal(0)
