"""Pricing one answered call against one rate (MOR's wholesale formula).

billed seconds: 0 for an unanswered call; otherwise `min_time` when billsec does not
exceed it, else `min_time` plus the rest rounded up to whole increments.
price: connection fee + price per minute x billed seconds / 60, rounded half-up to
the tariff's decimals.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from rating.tariff import Rate

SIXTY = Decimal(60)


def billed_seconds(billsec: int, rate: Rate) -> int:
    if billsec <= 0:
        return 0
    if billsec <= rate.min_time:
        return rate.min_time
    rest = billsec - rate.min_time
    return rate.min_time + -(-rest // rate.increment) * rate.increment


def price(billsec: int, rate: Rate, decimals: int) -> tuple[int, Decimal]:
    """(billed seconds, price) of a call answered for `billsec` seconds."""
    billed = billed_seconds(billsec, rate)
    if billed == 0:
        return 0, Decimal(0).quantize(Decimal(1).scaleb(-decimals))
    amount = rate.connection_fee + rate.price_per_minute * billed / SIXTY
    return billed, amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
