"""Pricing one call against its destination's rates; every price is worked out by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rating.calendar import Calendar
from rating.price import NoRateInForce, price_call
from rating.tariff import EVENT, Destination, Rate, Tariff, Tier

LT = Destination("370", "Lithuania", "Lithuania", "fixed", "Lithuania")


def ms(*when: int, tz: str = "UTC") -> int:
    from zoneinfo import ZoneInfo
    return int(datetime(*when, tzinfo=ZoneInfo(tz)).timestamp()) * 1000  # type: ignore[misc]


FRIDAY_10 = ms(2026, 11, 20, 10, 0, 0)


def wholesale(per_minute: str, fee: str = "0", min_time: int = 0, increment: int = 1,
              **window: object) -> Rate:
    return Rate.wholesale(LT, Decimal(per_minute), Decimal(fee), min_time, increment, **window)


def price(rates: Rate | list[Rate], billsec: int, begin_ms: int = FRIDAY_10,
          answered: bool = True, **options: object) -> tuple[int, str]:
    rates = rates if isinstance(rates, list) else [rates]
    tariff = Tariff.of(1, 1, "test", "USD", 0, rates, **options)
    priced = price_call(tariff, tariff.rates["370"], "370", begin_ms, billsec, answered)
    return priced.billed, str(priced.amount)


WHOLESALE = [
    # id, rate, billsec, billed seconds, price
    # MOR wiki: a 15 s call at 1/min, increment 1: 15 s, 1 x 15/60 = 0.25
    ("wiki-15s-inc1", wholesale("1"), 15, 15, "0.250000"),
    # increment 10: 15 s rounds up to 20 s, 1 x 20/60 = 0.333333(3) -> 0.333333
    ("wiki-15s-inc10", wholesale("1", increment=10), 15, 20, "0.333333"),
    ("wiki-15s-inc20", wholesale("1", increment=20), 15, 20, "0.333333"),
    # minimal time 10: a 1 s call bills 10 s, 1 x 10/60 = 0.166666(6) -> 0.166667
    ("min10-1s", wholesale("1", min_time=10), 1, 10, "0.166667"),
    ("min10-10s", wholesale("1", min_time=10), 10, 10, "0.166667"),
    # past the minimal time: 11 s bills 11 s (increment 1) -> 0.183333
    ("min10-11s", wholesale("1", min_time=10), 11, 11, "0.183333"),
    # min 30 + increment 60: 31 s = 30 + ceil(1/60) x 60 = 90 s, 0.6 x 90/60 = 0.9
    ("min30-inc60-31s", wholesale("0.6", min_time=30, increment=60), 31, 90, "0.900000"),
    # not answered for a second: nothing billed, no connection fee
    ("zero-billsec", wholesale("1", fee="0.5"), 0, 0, "0.000000"),
    # connection fee 0.02 + 0.18 x 61/60 = 0.02 + 0.183 = 0.203
    ("fee-61s", wholesale("0.18", fee="0.02"), 61, 61, "0.203000"),
    # 0.25 x 20/60 = 0.0833333 -> 0.083333 (Lithuania MOB in MOR's example)
    ("lt-mob-20s", wholesale("0.25"), 20, 20, "0.083333"),
    # USA, increment 6: 31 s -> 36 s, 0.015 x 36/60 = 0.009
    ("us-inc6-31s", wholesale("0.015", increment=6), 31, 36, "0.009000"),
    # half-up: 0.00003 x 1/60 = 0.0000005 -> 0.000001
    ("half-up", wholesale("0.00003"), 1, 1, "0.000001"),
    # just below half: 0.000029 x 1/60 = 0.000000483 -> 0.000000
    ("below-half", wholesale("0.000029"), 1, 1, "0.000000"),
    # a week-long call: 604800 s at 0.01/min = 100.8 (all inside one all-days window)
    ("one-week", wholesale("0.01"), 604_800, 604_800, "100.800000"),
]


@pytest.mark.parametrize(("rate", "billsec", "billed", "expected"),
                         [c[1:] for c in WHOLESALE], ids=[c[0] for c in WHOLESALE])
def test_wholesale_rates(rate: Rate, billsec: int, billed: int, expected: str) -> None:
    assert price(rate, billsec) == (billed, expected)


# first 60 s as one block at 0.10/min, then per second at 0.05/min
TIERED = Rate(LT, (Tier(0, 60, Decimal("0.10"), 60), Tier(60, None, Decimal("0.05"), 1)))
# MOR wiki: first 15 s free, then 0.01/min
FREE_START = Rate(LT, (Tier(0, 15, Decimal(0), 15), Tier(15, None, Decimal("0.01"), 1)))
# MOR wiki: 0.1/min for the first 600 s, then free
CAPPED = Rate(LT, (Tier(0, 600, Decimal("0.1"), 1), Tier(600, None, Decimal(0), 1)))
# a flat 0.05 once the call reaches its 60th second, on top of 0.02/min
EVENT_AT_60 = Rate(LT, (Tier(0, None, Decimal("0.02"), 1),
                        Tier(60, None, Decimal("0.05"), 1, EVENT)))


@pytest.mark.parametrize(("rate", "billsec", "billed", "expected"), [
    (TIERED, 30, 60, "0.100000"),  # 30 s rounds up to the 60 s block: 0.10
    (TIERED, 60, 60, "0.100000"),  # exactly the block
    (TIERED, 90, 90, "0.125000"),  # 0.10 + 0.05 x 30/60 = 0.125
    (FREE_START, 10, 15, "0.000000"),  # inside the free 15 s
    (FREE_START, 75, 75, "0.010000"),  # 0 + 0.01 x 60/60
    (CAPPED, 300, 300, "0.500000"),  # 0.1 x 300/60
    (CAPPED, 3600, 3600, "1.000000"),  # 0.1 x 600/60, the rest free
    (EVENT_AT_60, 60, 60, "0.020000"),  # the 60th second is reached only past 60 s
    (EVENT_AT_60, 61, 61, "0.070333"),  # 0.02 x 61/60 = 0.0203333 + 0.05
], ids=["block-30s", "block-60s", "block-then-seconds-90s", "free-start-10s",
        "free-start-75s", "capped-300s", "capped-1h", "event-not-reached", "event-reached"])
def test_tiers(rate: Rate, billsec: int, billed: int, expected: str) -> None:
    assert price(rate, billsec) == (billed, expected)


def test_grace_time_makes_short_calls_free() -> None:
    rate = wholesale("0.6", fee="0.1", grace_time=5)
    assert price(rate, 5) == (0, "0.000000")  # not longer than the grace time: free
    assert price(rate, 6) == (6, "0.160000")  # 0.1 + 0.6 x 6/60


@pytest.mark.parametrize(("mode", "expected"), [
    ("half_up", "0.13"), ("half_even", "0.12"), ("up", "0.13"), ("down", "0.12"),
    ("truncate", "0.12"),
])
def test_rounding_modes(mode: str, expected: str) -> None:
    # 0.10 block + 0.05 x 30/60 = 0.125 exactly, rounded to 2 decimals
    assert price(TIERED, 90, decimals=2, rounding=mode) == (90, expected)


def test_unanswered_calls_pay_the_connection_fee_only_when_the_tariff_says_so() -> None:
    rate = wholesale("0.6", fee="0.05")
    assert price(rate, 0, answered=False) == (0, "0.000000")
    assert price(rate, 0, answered=False, charge_unanswered=True) == (0, "0.050000")


# Peak: work days 08:00-18:00 at 0.12/min; otherwise (nights, free days) 0.06/min.
PEAK = wholesale("0.12", days="work", start_second=8 * 3600, end_second=18 * 3600)
OFF_PEAK = wholesale("0.06")


def test_a_call_across_the_peak_boundary_is_priced_in_two_pieces() -> None:
    # Friday 07:59:00 for 240 s: 60 s off-peak (0.06) + 180 s peak (0.36) = 0.42
    tariff = Tariff.of(1, 1, "t", "USD", 0, [PEAK, OFF_PEAK])
    priced = price_call(tariff, tariff.rates["370"], "370", ms(2026, 11, 20, 7, 59), 240, True)
    assert str(priced.amount) == "0.420000"
    assert [(p.seconds, str(p.price), p.window, p.amount) for p in priced.pieces] == [
        (60, "0.06", "all 00:00:00-24:00:00", Decimal("0.06")),
        (180, "0.12", "work 08:00:00-18:00:00", Decimal("0.36")),
    ]


@pytest.mark.parametrize(("begin", "options", "expected"), [
    # 240 s entirely at peak on Friday 10:00: 0.12 x 4 = 0.48
    (ms(2026, 11, 20, 10, 0), {}, "0.480000"),
    # Saturday is a free day: 0.06 x 4 = 0.24
    (ms(2026, 11, 21, 10, 0), {}, "0.240000"),
    # Friday made a holiday: 0.24
    (ms(2026, 11, 20, 10, 0), {"calendar": Calendar(holidays=frozenset({date(2026, 11, 20)}))},
     "0.240000"),
    # Friday 17:58 for 240 s: 120 s peak (0.24) + 120 s off-peak (0.12) = 0.36
    (ms(2026, 11, 20, 17, 58), {}, "0.360000"),
    # Friday 23:59 for 240 s: off-peak, then Saturday off-peak: 0.24, two pieces at midnight
    (ms(2026, 11, 20, 23, 59), {}, "0.240000"),
    # a 5-day week-end where Friday is free too (weekend = Fri, Sat, Sun)
    (ms(2026, 11, 20, 10, 0), {"calendar": Calendar(weekend=frozenset({4, 5, 6}))}, "0.240000"),
    # the tariff's time zone decides: 07:59 in Vilnius is 05:59 UTC on 2026-11-20
    (ms(2026, 11, 20, 7, 59, tz="Europe/Vilnius"),
     {"calendar": Calendar("Europe/Vilnius")}, "0.420000"),
])
def test_windows(begin: int, options: dict[str, object], expected: str) -> None:
    assert price([PEAK, OFF_PEAK], 240, begin, **options)[1] == expected


def test_a_gap_in_the_windows_is_no_rate_in_force() -> None:
    with pytest.raises(NoRateInForce, match=r"no rate for prefix 370 at 2026-11-21 10:00:00 UTC"):
        price([PEAK], 60, ms(2026, 11, 21, 10, 0))


def test_a_second_that_starts_before_a_boundary_belongs_to_the_earlier_window() -> None:
    # answered at 07:59:30.500: billed seconds start at :30.5, :31.5, ... :59.5, so 30
    # of them start before 08:00: 30 x 0.06/60 = 0.03 off-peak, 30 x 0.12/60 = 0.06 peak
    begin = ms(2026, 11, 20, 7, 59, 30) + 500
    assert price([PEAK, OFF_PEAK], 60, begin)[1] == "0.090000"


rates = st.builds(
    wholesale,
    per_minute=st.decimals("0", "100", places=6).map(str),
    fee=st.decimals("0", "1", places=6).map(str),
    min_time=st.integers(0, 120),
    increment=st.integers(1, 120),
    grace_time=st.integers(0, 10),
)
moments = st.integers(ms(2026, 1, 1), ms(2027, 1, 1))


@given(rates, st.integers(0, 20_000), st.integers(0, 20_000), moments)
def test_price_never_negative_and_never_decreases_with_duration(
        rate: Rate, a: int, b: int, begin: int) -> None:
    short, long = sorted((a, b))
    cheaper, dearer = price(rate, short, begin)[1], price(rate, long, begin)[1]
    assert Decimal(0) <= Decimal(cheaper) <= Decimal(dearer)


@given(st.integers(1, 20_000), moments)
def test_windowed_price_never_decreases_with_duration(billsec: int, begin: int) -> None:
    assert Decimal(price([PEAK, OFF_PEAK], billsec - 1, begin)[1]) <= Decimal(
        price([PEAK, OFF_PEAK], billsec, begin)[1])


@given(rates, st.integers(0, 20_000), moments)
def test_equal_inputs_give_equal_prices(rate: Rate, billsec: int, begin: int) -> None:
    assert price(rate, billsec, begin) == price(rate, billsec, begin)


@given(rates, st.integers(1, 20_000))
def test_billed_seconds_cover_the_call(rate: Rate, billsec: int) -> None:
    billed = price(rate, billsec)[0]
    assert billed == 0 if billsec <= rate.grace_time else billed >= billsec


def test_datetime_helper() -> None:
    assert FRIDAY_10 == int(datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp()) * 1000


# Vilnius, 2026-10-25: summer time ends at 04:00 EEST, so 03:00-04:00 happens twice.
# Windows: 0.06/min until 03:30, 0.12/min after.
EARLY = wholesale("0.06", start_second=0, end_second=3 * 3600 + 1800)
LATE = wholesale("0.12", start_second=3 * 3600 + 1800, end_second=86_400)
VILNIUS = {"calendar": Calendar("Europe/Vilnius")}


@pytest.mark.parametrize("fold", [0, 1], ids=["first-03:29", "repeated-03:29"])
def test_a_window_edge_in_the_repeated_hour(fold: int) -> None:
    from zoneinfo import ZoneInfo
    answered = datetime(2026, 10, 25, 3, 29, fold=fold, tzinfo=ZoneInfo("Europe/Vilnius"))
    begin = int(answered.timestamp()) * 1000
    # either time 03:29 comes: 60 s at 0.06 (0.06), then 60 s at 0.12 (0.12) = 0.18
    assert price([EARLY, LATE], 120, begin, **VILNIUS) == (120, "0.180000")


@given(st.integers(ms(2026, 10, 24, 22, tz="Europe/Vilnius"),
                   ms(2026, 10, 25, 6, tz="Europe/Vilnius")),
       st.integers(1, 10_000))
def test_pieces_around_summer_time_changes_are_never_empty_or_negative(
        begin: int, billsec: int) -> None:
    tariff = Tariff.of(1, 1, "t", "USD", 0, [EARLY, LATE], **VILNIUS)
    priced = price_call(tariff, tariff.rates["370"], "370", begin, billsec, True)
    assert all(piece.seconds > 0 for piece in priced.pieces)
    assert sum(piece.seconds for piece in priced.pieces) == billsec
    assert priced.amount >= 0
