"""The fast paths of pricing give exactly what the rules as written give.

`general_price` is `price_call` before it was made fast: every moment of a call goes
through `Calendar.local` and `rate_at`, each window end through `datetime`, with no
shortcut for all-day rates, no reuse of the lookup at the answer and no caches. Prices
are compared whole (every piece, exact amounts included) around DST changes in zones
with odd offsets.
"""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from pytest import MonkeyPatch

from rating.calendar import Calendar
from rating.numbers import NumberPlan
from rating.price import NoRateInForce, Piece, Priced, price_call, window
from rating.tariff import EVENT, MINUTE, ZERO, Destination, Rate, Tariff, Tier, rate_at

SIXTY = Decimal(60)
ZONES = ["UTC", "Europe/Vilnius", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
         "America/St_Johns"]
# window edges, among them the hours clocks skip or repeat when DST starts or ends
EDGES = [0, 1800, 7200, 9000, 10_800, 12_600, 14_400, 28_800, 43_200, 64_800, 86_399, 86_400]
DST_DAYS = [datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC),
            datetime(2026, 4, 5, tzinfo=UTC), datetime(2026, 10, 4, tzinfo=UTC),
            datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)]
DEST = Destination("370", "Lithuania")


def general_price(tariff: Tariff, rates: tuple[Rate, ...], prefix: str, begin_ms: int,
                  billsec: int, answered: bool) -> Priced:
    charged = (answered and billsec > 0) or (not answered and tariff.charge_unanswered)
    try:
        first = _rate_at(tariff, rates, prefix, begin_ms)[0]
    except NoRateInForce:
        if charged:
            raise
        first = rates[0]  # nothing is charged: no window needs to cover the moment
    pieces: list[Piece] = []
    if answered and billsec > 0 and billsec > first.grace_time:
        for index, tier in enumerate(first.tiers):
            if billsec <= tier.start:
                continue
            if tier.kind == EVENT:
                pieces.append(Piece(index, EVENT, begin_ms + tier.start * 1000, 0, tier.price,
                                    window(first), tier.price))
                continue
            covered = min(billsec, tier.end if tier.end is not None else billsec) - tier.start
            seconds = -(-covered // tier.increment) * tier.increment
            offset = tier.start
            while seconds > 0:
                at_ms = begin_ms + offset * 1000
                rate, window_end_ms = _rate_at(tariff, rates, prefix, at_ms)
                span = min(seconds, -(-(window_end_ms - at_ms) // 1000))
                price = tier.price if rate is first else next(
                    (t.price for t in reversed(rate.tiers) if t.kind == MINUTE
                     and t.start <= offset), ZERO)
                pieces.append(Piece(index, MINUTE, at_ms, span, price, window(rate),
                                    price * span / SIXTY))
                offset += span
                seconds -= span
    elif not answered and tariff.charge_unanswered:
        pieces = [Piece(i, EVENT, begin_ms, 0, t.price, window(first), t.price)
                  for i, t in enumerate(first.tiers) if t.kind == EVENT and t.start == 0]
    exact = sum((p.amount for p in pieces), ZERO)
    return Priced(first, sum(p.seconds for p in pieces), exact, tariff.quantize(exact),
                  tuple(pieces))


def _rate_at(tariff: Tariff, rates: tuple[Rate, ...], prefix: str,
             at_ms: int) -> tuple[Rate, int]:
    calendar = tariff.calendar
    local = calendar.local(at_ms)
    second = local.hour * 3600 + local.minute * 60 + local.second
    rate = rate_at(rates, calendar.day_type(local.date()), second)
    if rate is None:
        raise NoRateInForce(f"no rate for prefix {prefix} at {local:%Y-%m-%d %H:%M:%S %Z}")
    end = next(b for b in tariff.boundaries[prefix] if b > second)
    return rate, _epoch_ms(calendar, local.date(), end)


def _epoch_ms(calendar: Calendar, day: date, second_of_day: int) -> int:
    if second_of_day >= 86_400:
        day, second_of_day = day + timedelta(days=1), second_of_day - 86_400
    hours, rest = divmod(second_of_day, 3600)
    moment = datetime.combine(day, time(hours, rest // 60, rest % 60),
                              tzinfo=ZoneInfo(calendar.timezone))
    return int(moment.timestamp()) * 1000


money = st.decimals("0", "2", places=6)
tiers = st.one_of(
    st.builds(lambda p, f, m, i: Rate.wholesale(DEST, p, f, m, i).tiers,
              money, money, st.sampled_from([0, 0, 10, 30, 60]), st.sampled_from([1, 6, 60])),
    st.lists(st.tuples(st.integers(1, 300), money, st.integers(1, 90), st.booleans()),
             min_size=1, max_size=4).map(lambda parts: tuple(
                 Tier(sum(p[0] for p in parts[:i]), None if i == len(parts) - 1
                      else sum(p[0] for p in parts[:i + 1]), price, increment,
                      EVENT if event and i else MINUTE)
                 for i, (_, price, increment, event) in enumerate(parts))),
)


@st.composite
def rate_sets(draw: st.DrawFn) -> tuple[Rate, ...]:
    """One all-day rate; or windows, after an all-day rate or with gaps between them."""
    rates = [Rate(DEST, draw(tiers), grace_time=draw(st.sampled_from([0, 3])))]
    if draw(st.booleans()):
        return tuple(rates)
    if draw(st.booleans()):
        rates = []
    for days in ("work", "free") if rates else ("all", "work", "free"):
        cuts = sorted(draw(st.sets(st.sampled_from(EDGES), max_size=5)))
        for start, end in itertools.pairwise(cuts):
            if draw(st.booleans()):
                rates.append(Rate(DEST, draw(tiers), days, start, end))
    return tuple(rates) or (Rate(DEST, draw(tiers), "work"),)


moments = st.builds(lambda day, ms: int(day.timestamp()) * 1000 + ms,
                    st.sampled_from(DST_DAYS), st.integers(-2 * 86_400_000, 2 * 86_400_000))
near_edges = st.one_of(st.none(), st.tuples(st.sampled_from(EDGES), st.integers(-1500, 1500)))


@settings(max_examples=1000)
@given(rate_sets(), st.sampled_from(ZONES), moments, near_edges, st.integers(0, 100_000),
       st.booleans(), st.booleans(), st.sets(st.integers(0, 6), max_size=3))
def test_price_call_prices_as_the_general_path(
        rates: tuple[Rate, ...], zone: str, begin_ms: int, near_edge: tuple[int, int] | None,
        billsec: int, answered: bool, charge_unanswered: bool, weekend: set[int]) -> None:
    calendar = Calendar(zone, frozenset(weekend), frozenset({date(2026, 10, 25)}))
    if near_edge is not None:  # within 1.5 s of a window edge that day
        edge, ms = near_edge
        begin_ms = _epoch_ms(calendar, calendar.local(begin_ms).date(), edge) + ms
    tariff = Tariff.of(1, 1, "t", "USD", 0, rates, calendar=calendar,
                       charge_unanswered=charge_unanswered)
    rates = tariff.rates["370"]
    try:
        expected: Priced | str = general_price(tariff, rates, "370", begin_ms, billsec, answered)
    except NoRateInForce as exc:
        expected = str(exc)
    try:
        found: Priced | str = price_call(tariff, rates, "370", begin_ms, billsec, answered)
    except NoRateInForce as exc:
        found = str(exc)
    assert found == expected
    if isinstance(found, Priced) and isinstance(expected, Priced):  # bit for bit
        assert [repr(p.amount) for p in found.pieces] == [repr(p.amount) for p in expected.pieces]
        assert repr(found.amount) == repr(expected.amount)


@given(st.sampled_from(ZONES), moments)
def test_wall_clock_is_local_time_without_milliseconds(zone: str, epoch_ms: int) -> None:
    calendar = Calendar(zone)
    local = calendar.local(epoch_ms)
    assert calendar.wall_clock(epoch_ms) == (
        local.date(), local.hour * 3600 + local.minute * 60 + local.second)


@given(st.sampled_from(ZONES), st.sampled_from(DST_DAYS), st.sampled_from(EDGES))
def test_cached_window_ends_are_the_computed_ones(zone: str, day: datetime, second: int) -> None:
    calendar = Calendar(zone)
    assert calendar.epoch_ms(day.date(), second) == _epoch_ms(calendar, day.date(), second)


@given(st.text(st.sampled_from("0123456789+ -()²٣x\n")), st.booleans())
def test_normalised_numbers_keep_only_ascii_digits(number: str, national: bool) -> None:
    plan = NumberPlan("370", "8") if national else NumberPlan()
    text = number.strip()
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if text.startswith("+"):
        assert plan.normalise(number) == digits
    elif digits.startswith("00"):
        assert plan.normalise(number) == digits[2:]
    elif national and digits.startswith("8"):
        assert plan.normalise(number) == "370" + digits[1:]
    else:
        assert plan.normalise(number) == digits


@settings(max_examples=50)
@given(st.sampled_from(ZONES), st.lists(moments, min_size=1, max_size=400),
       st.sets(st.integers(0, 6), max_size=3))
def test_the_memo_of_local_time_slots_answers_as_the_zone_database(
        zone: str, instants: list[int], weekend: set[int]) -> None:
    # one calendar asked again and again, as a rater asks it: the slots it remembers
    # give what the zone database gives, also in the hours a clock changes
    calendar = Calendar(zone, frozenset(weekend), frozenset({date(2026, 10, 25)}))
    for epoch_ms in [*instants, *instants]:
        day, second = calendar.wall_clock(epoch_ms)
        day_end = max(calendar.epoch_ms(day, 86_400, after_ms=epoch_ms), epoch_ms + 1000)
        assert calendar.moment(epoch_ms) == (day, second, calendar.day_type(day), day_end)
        assert calendar.day_end(epoch_ms) == day_end


def test_the_memo_of_slots_starts_over_when_full(monkeypatch: MonkeyPatch) -> None:
    import rating.calendar
    monkeypatch.setattr(rating.calendar, "MAX_SLOTS", 3)
    calendar = Calendar("Asia/Kathmandu")
    for hour in range(10):
        calendar.moment(int(DST_DAYS[0].timestamp()) * 1000 + hour * 3_600_000)
    assert 1 <= len(calendar._slots) <= 3
