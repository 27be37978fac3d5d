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


def balances(client: Client, user_ids: list[int]) -> dict[int, Decimal]:
    """`balance` of each of the users, in two queries: the same sums, grouped by user
    (users without payments or calls: 0)."""
    ids = tuple(sorted(set(user_ids)))
    if not ids:
        return {}
    params = {"ids": ids}
    paid = client.execute(
        f"SELECT user_id, toString(sum(amount)) FROM {payments.TABLE} FINAL "
        "WHERE user_id IN %(ids)s AND completed = 1 AND (user_id, currency) IN "
        "(SELECT user_id, currency FROM users FINAL WHERE user_id IN %(ids)s) "
        "GROUP BY user_id", params)
    charged = client.execute(
        "SELECT user_id, toString(sum(price)) FROM (SELECT user_id, "
        "argMax(user_price, version) AS price FROM cdrs WHERE user_id IN %(ids)s "
        "GROUP BY user_id, calldate, call_id) GROUP BY user_id", params)
    found = dict.fromkeys(ids, Decimal(0))
    for user_id, total in paid:
        found[int(user_id)] += Decimal(total)
    for user_id, total in charged:
        found[int(user_id)] -= Decimal(total)
    return found


def _decimal(found: list[tuple[Any, ...]]) -> Decimal:
    return Decimal(found[0][0]) if found and found[0][0] else Decimal(0)
