"""quickstats_get (MOR X7): today's totals and the live calls for the caller's scope
(docs/api.md, "quickstats_get").

Admin and accountant: every call; reseller: the calls of the users he owns (his self cost
is what he pays, `reseller_price`); user: his own calls (revenue is what they cost him;
no self cost or profit is shown to a user). "Today" is the caller's day, in his time
zone; money is in the caller's currency. Hash: SHA1(secret), or for a caller who is not
an admin also SHA1(u + secret), as MOR documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal

from api.active_calls import visible_live_calls
from api.aggregate import PRIVILEGED, Sums, combine, exchange_rates_for, margin
from api.hash import mor_hash
from api.methods import Envelope, MethodCall, MorMethod
from api.params import Params
from api.user_calls import user_zone
from api.xml import Node, money, render
from projections.aggregates import AggregateFilter, partials
from projections.queries import User
from projections.tariff_rates import SYSTEM_CURRENCY


async def quickstats_get(call: MethodCall) -> str:
    caller = call.caller
    zone = user_zone(caller.timezone)
    now = call.now()
    today = now.astimezone(zone).date()
    start = int(datetime.combine(today, time.min, zone).timestamp())
    end = int(datetime.combine(today + timedelta(days=1), time.min, zone).timestamp()) - 1
    where = AggregateFilter(start, end, zone.key)
    if caller.role == "reseller":
        where = AggregateFilter(start, end, zone.key, owner_id=caller.user_id, cost="reseller")
    elif caller.role not in PRIVILEGED:
        where = AggregateFilter(start, end, zone.key, user_id=caller.user_id)
    found = await call.context.query(partials, where)
    currency = caller.currency or SYSTEM_CURRENCY
    rates = await call.context.blocking(exchange_rates_for, call.context.read(), currency,
                                        found, end)
    today_sums = combine(found, currency, rates).get((), Sums())
    own = caller.role not in PRIVILEGED and caller.role != "reseller"
    return render_answer(today_sums, await _live(call, caller, now), own=own)


async def _live(call: MethodCall, caller: User, now: datetime) -> tuple[int, int]:
    """(total, answered) of the live calls the caller may see."""
    found, _ = await visible_live_calls(call.context, caller, now)
    return len(found), sum(1 for c in found if c.status == "answered")


def render_answer(today: Sums, live: tuple[int, int], own: bool = False) -> str:
    """`own`: a user's own calls: revenue is his cost, self cost and profit are 0."""
    revenue = today.originator_price
    self_cost = Decimal(0) if own else today.terminator_price
    profit = Decimal(0) if own else revenue - self_cost
    return render(Node("page", [Node("quickstats", [
        Node("today", [
            Node("calls", today.answered),
            Node("duration", today.billed_ms // 1000),
            Node("revenue", money(revenue)),
            Node("self_cost", money(self_cost)),
            Node("profit", money(profit)),
            Node("margin", margin(profit, revenue)),
        ]),
        Node("active_calls", [Node("total", live[0]), Node("answered_calls", live[1])]),
    ])]))


def user_hash(params: Params, caller: User, secret: str) -> Sequence[str]:
    """SHA1(u + secret), the hash MOR documents for a caller who is not an admin."""
    if caller.role == "admin":
        return ()
    return (mor_hash([params.get("u") or ""], secret),)


METHODS: list[MorMethod] = [
    MorMethod("quickstats_get", quickstats_get, envelope=Envelope.PAGE,
              extra_hashes=user_hash),
]
