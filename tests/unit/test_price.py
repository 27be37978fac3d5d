"""Pricing one call against one rate; every expected price is worked out by hand."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rating.price import billed_seconds, price
from rating.tariff import Rate


def rate(per_minute: str, fee: str = "0", min_time: int = 0, increment: int = 1) -> Rate:
    return Rate("370", "Lithuania", Decimal(per_minute), Decimal(fee), min_time, increment)


CASES = [
    # id, rate, billsec, billed seconds, price
    # MOR wiki: a 15 s call at 1/min, increment 1: 15 s, 1 x 15/60 = 0.25
    ("wiki-15s-inc1", rate("1"), 15, 15, "0.250000"),
    # increment 10: 15 s rounds up to 20 s, 1 x 20/60 = 0.333333(3) -> 0.333333
    ("wiki-15s-inc10", rate("1", increment=10), 15, 20, "0.333333"),
    # increment 20: also 20 s
    ("wiki-15s-inc20", rate("1", increment=20), 15, 20, "0.333333"),
    # minimal time 10: a 1 s call bills 10 s, 1 x 10/60 = 0.166666(6) -> 0.166667
    ("min10-1s", rate("1", min_time=10), 1, 10, "0.166667"),
    ("min10-10s", rate("1", min_time=10), 10, 10, "0.166667"),
    # past the minimal time: 11 s bills 11 s (increment 1)
    ("min10-11s", rate("1", min_time=10), 11, 11, "0.183333"),
    # min 30 + increment 60: 31 s = 30 + ceil(1/60)*60 = 90 s, 0.6 x 90/60 = 0.9
    ("min30-inc60-31s", rate("0.6", min_time=30, increment=60), 31, 90, "0.900000"),
    # not answered: nothing billed, no connection fee
    ("zero-billsec", rate("1", fee="0.5"), 0, 0, "0.000000"),
    # connection fee 0.02 + 0.18 x 61/60 = 0.02 + 0.183 = 0.203
    ("fee-61s", rate("0.18", fee="0.02"), 61, 61, "0.203000"),
    # 0.25 x 20/60 = 0.0833333 -> 0.083333 (the MOR example's Lithuania MOB)
    ("lt-mob-20s", rate("0.25"), 20, 20, "0.083333"),
    # USA, increment 6: 31 s -> 36 s, 0.015 x 36/60 = 0.009
    ("us-inc6-31s", rate("0.015", increment=6), 31, 36, "0.009000"),
    # half-up: 0.00003 x 1/60 = 0.0000005 -> 0.000001
    ("half-up", rate("0.00003"), 1, 1, "0.000001"),
    # just below half: 0.000029 x 1/60 = 0.000000483 -> 0.000000
    ("below-half", rate("0.000029"), 1, 1, "0.000000"),
    # a week-long call: 604800 s at 0.01/min = 100.8
    ("one-week", rate("0.01"), 604_800, 604_800, "100.800000"),
]


@pytest.mark.parametrize(("rate_", "billsec", "billed", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_price(rate_: Rate, billsec: int, billed: int, expected: str) -> None:
    assert price(billsec, rate_, 6) == (billed, Decimal(expected))


def test_price_is_quantized_to_the_tariff_decimals() -> None:
    # 1 x 15/60 = 0.25 -> 0.2500 with four decimals, 0.3 (half-up) with one
    assert str(price(15, rate("1"), 4)[1]) == "0.2500"
    assert str(price(15, rate("1"), 1)[1]) == "0.3"


rates = st.builds(
    rate,
    per_minute=st.decimals("0", "100", places=6).map(str),
    fee=st.decimals("0", "1", places=6).map(str),
    min_time=st.integers(0, 120),
    increment=st.integers(1, 120),
)


@given(rates, st.integers(0, 100_000), st.integers(0, 100_000))
def test_price_never_negative_and_never_decreases(r: Rate, a: int, b: int) -> None:
    short, long = sorted((a, b))
    assert Decimal(0) <= price(short, r, 6)[1] <= price(long, r, 6)[1]


@given(rates, st.integers(1, 100_000))
def test_billed_seconds_cover_the_call_in_whole_increments(r: Rate, billsec: int) -> None:
    billed = billed_seconds(billsec, r)
    assert billed >= max(billsec, r.min_time)
    assert billed < max(billsec, r.min_time) + r.increment
    if billed > r.min_time:
        assert (billed - r.min_time) % r.increment == 0
