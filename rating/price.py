"""Pricing one call against the rates of its destination.

The rate in force when the call was answered decides the tiers, their rounding and
the grace time. Each billed second is then priced at the rate in force at that
moment, so a call from 07:59 to 08:03 across an off-peak/peak boundary is priced in
two pieces. Pieces keep exact amounts; only the total is rounded, with the tariff's
rounding mode and decimals.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from rating.tariff import DAY_SECONDS, EVENT, MINUTE, ZERO, Rate, Tariff, rate_at

SIXTY = Decimal(60)


class NoRateInForce(LookupError):
    """No window of the destination's rates covers a moment of the call."""


class Piece(NamedTuple):  # named tuples: immutable, and several times cheaper to make
    tier: int  # index into the tiers of the rate in force at the answer
    kind: str  # minute or event
    start_ms: int  # wall time the piece starts
    seconds: int  # billed seconds (0 for an event)
    price: Decimal  # per minute, or flat for an event
    window: str  # the window of the rate that priced it, e.g. "work 08:00:00-18:00:00"
    amount: Decimal  # exact, not rounded


class Priced(NamedTuple):
    rate: Rate  # in force at the answer
    billed: int  # seconds billed after increments
    exact: Decimal
    amount: Decimal  # rounded with the tariff's mode and decimals
    pieces: tuple[Piece, ...]


def price_call(tariff: Tariff, rates: Sequence[Rate], prefix: str, begin_ms: int,
               billsec: int, answered: bool) -> Priced:
    """Price a call that was answered at `begin_ms` and billed `billsec` seconds."""
    first = rates[0]
    at_begin = None
    if len(rates) > 1 or not first.always:
        # most destinations have one rate for every day, all day: it is what `_rate_at`
        # would find whatever the clock said, so the clock is not read for it here
        try:
            at_begin = _rate_at(tariff, rates, prefix, begin_ms)
        except NoRateInForce:
            if (answered and billsec > 0) or (not answered and tariff.charge_unanswered):
                raise
            # nothing to charge, so no window needs to cover the moment: any rate of the
            # prefix names the destination
        else:
            first = at_begin[0]
    if not answered:
        if not tariff.charge_unanswered:
            return Priced(first, 0, ZERO, tariff.nothing, ())
        pieces = [Piece(i, EVENT, begin_ms, 0, t.price, first.window, t.price)
                  for i, t in enumerate(first.tiers) if t.kind == EVENT and t.start == 0]
    elif billsec <= first.grace_time or billsec <= 0:
        return Priced(first, 0, ZERO, tariff.nothing, ())
    else:
        pieces = []
        for index, tier in enumerate(first.tiers):
            if billsec <= tier.start:
                continue
            if tier.kind == EVENT:
                pieces.append(Piece(index, EVENT, begin_ms + tier.start * 1000, 0, tier.price,
                                    first.window, tier.price))
                continue
            end = tier.end
            covered = (billsec if end is None or billsec < end else end) - tier.start
            billed = -(-covered // tier.increment) * tier.increment
            at_ms = begin_ms + tier.start * 1000
            if at_begin is None and at_ms + billed * 1000 <= tariff.calendar.day_end(at_ms):
                # the one all-day rate, and the local day lasts longer than the tier: one
                # piece, as `_minute_pieces` would find it
                pieces.append(Piece(index, MINUTE, at_ms, billed, tier.price, first.window,
                                    tier.price * billed / SIXTY))
                continue
            _minute_pieces(pieces, tariff, rates, prefix, begin_ms, first, at_begin, index,
                           billed)
    if len(pieces) == 1:
        piece = pieces[0]
        exact = ZERO + piece.amount  # as the sum below would write it
        return Priced(first, piece.seconds, exact, tariff.quantize(exact), (piece,))
    exact, seconds = ZERO, 0
    for piece in pieces:
        exact += piece.amount
        seconds += piece.seconds
    return Priced(first, seconds, exact, tariff.quantize(exact), tuple(pieces))


def _minute_pieces(pieces: list[Piece], tariff: Tariff, rates: Sequence[Rate], prefix: str,
                   begin_ms: int, first: Rate, at_begin: tuple[Rate, int] | None,
                   tier_index: int, seconds: int) -> None:
    """The billed seconds of one minute tier, cut where the window changes."""
    tier = first.tiers[tier_index]
    offset = tier.start
    while seconds > 0:
        at_ms = begin_ms + offset * 1000
        if at_begin is None:  # the one all-day rate: its window ends with the local day
            rate, window_end_ms = first, tariff.calendar.day_end(at_ms)
        elif at_ms == begin_ms:
            rate, window_end_ms = at_begin  # the same moment price_call looked up
        else:
            rate, window_end_ms = _rate_at(tariff, rates, prefix, at_ms)
        span = min(seconds, -(-(window_end_ms - at_ms) // 1000))
        price = tier.price if rate is first else _minute_price(rate, offset)
        pieces.append(Piece(tier_index, MINUTE, at_ms, span, price, rate.window,
                            price * span / SIXTY))
        offset += span
        seconds -= span


def _rate_at(tariff: Tariff, rates: Sequence[Rate], prefix: str,
             at_ms: int) -> tuple[Rate, int]:
    """The rate in force at a moment, and when its window (or the day) ends."""
    calendar = tariff.calendar
    day, second, day_type, day_end_ms = calendar.moment(at_ms)
    rate = rate_at(rates, day_type, second)
    if rate is None:
        local = calendar.local(at_ms)
        raise NoRateInForce(f"no rate for prefix {prefix} at {local:%Y-%m-%d %H:%M:%S %Z}")
    boundaries = tariff.boundaries[prefix]  # sorted, from 0 to 86400
    end = boundaries[bisect.bisect_right(boundaries, second)]
    if end == DAY_SECONDS:
        return rate, day_end_ms
    # the window ends after `at_ms`, also in the hour repeated when summer time ends
    # (at least one second later, so a piece is never empty or negative)
    return rate, max(calendar.epoch_ms(day, end, after_ms=at_ms), at_ms + 1000)


def _minute_price(rate: Rate, offset: int) -> Decimal:
    """The per-minute price of the rate's minute tier that covers second `offset`."""
    for tier in reversed(rate.tiers):
        if tier.kind == MINUTE and tier.start <= offset:
            return tier.price
    return ZERO


def window(rate: Rate) -> str:
    return rate.window
