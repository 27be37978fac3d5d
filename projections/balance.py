"""A user's balance: completed payments minus the user's call charges (docs/payments.md).

Both sums read deduplicated rows, so a payment event or a CDR delivered twice, and a call
rated twice, count once: payments with FINAL; the user's CDRs grouped by their key (user,
call start, call id) with the price of the highest version (`argMax`), the row that
`cdrs FINAL` keeps. FINAL would merge every row read, in every partition, including the
other users' rows that share the user's granules; the grouping only aggregates the user's
own (about 5 times faster on the bench, bench/README.md).
Payments count only in the user's currency (the currency of the user's prices,
`cdrs.user_price`); another currency is shown on the Payments page but never converted
here.
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
        "SELECT toString(sum(price)) FROM (SELECT argMax(user_price, version) AS price "
        "FROM cdrs WHERE user_id = %(user_id)s GROUP BY calldate, call_id)", params)
    return _decimal(paid) - _decimal(charged)


def _decimal(found: list[tuple[Any, ...]]) -> Decimal:
    return Decimal(found[0][0]) if found and found[0][0] else Decimal(0)
