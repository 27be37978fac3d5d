"""Tariffs: destinations with rates, when each rate applies, and tariff versions.

Vocabulary: a *rate* prices one destination (a prefix) during one *window* (day type
and time of day) as a list of *tiers*, MOR's "rate details": a minute tier bills the
seconds of the call inside [start, end) rounded up to its increment at a price per
minute; an event tier charges a flat amount once the call reaches its start second.
MOR's wholesale fields (connection fee, minimal time, increment) are the tiers
`Rate.wholesale` builds.
"""

from __future__ import annotations

import bisect
import itertools
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from rating.calendar import ALL, DAY_TYPES, Calendar, clock
from rating.numbers import NumberPlan

MINUTE = "minute"
EVENT = "event"
DAY_SECONDS = 86_400
ROUNDING_MODES = {
    "half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "up": ROUND_CEILING,
    "down": ROUND_FLOOR, "truncate": ROUND_DOWN,
}
ZERO = Decimal(0)
QUANTA = tuple(Decimal(1).scaleb(-places) for places in range(7))  # 1, 0.1, ... 0.000001


@dataclass(frozen=True, slots=True)
class Tier:
    start: int  # seconds into the answered call
    end: int | None  # None: to the end of the call
    price: Decimal  # per minute (minute tiers) or flat (event tiers)
    increment: int = 1
    kind: str = MINUTE

    def __post_init__(self) -> None:
        if self.kind not in (MINUTE, EVENT):
            raise ValueError(f"tier kind must be {MINUTE} or {EVENT}")
        if self.start < 0 or (self.end is not None and self.end <= self.start):
            raise ValueError("a tier needs 0 <= start < end")
        if self.increment < 1:
            raise ValueError("a tier's increment must be at least 1 second")
        if self.price < 0:
            raise ValueError("a tier's price must not be negative")


@dataclass(frozen=True, slots=True)
class Destination:
    prefix: str
    name: str
    direction: str = ""  # country
    kind: str = ""  # fixed, mobile, special
    group: str = ""  # destination group for statistics


@dataclass(frozen=True, slots=True)
class Rate:
    destination: Destination
    tiers: tuple[Tier, ...]
    days: str = ALL
    start_second: int = 0  # time of day the window opens, inclusive
    end_second: int = DAY_SECONDS  # time of day it closes, exclusive
    grace_time: int = 0

    # derived once here, read for every call priced
    always: bool = field(init=False, repr=False, compare=False)  # every day, all day
    price_per_minute: Decimal = field(init=False, repr=False, compare=False)  # first minute tier
    window: str = field(init=False, repr=False, compare=False)  # e.g. "work 08:00:00-18:00:00"

    def __post_init__(self) -> None:
        if not self.destination.prefix.isdigit():
            raise ValueError(f"rate prefix must be digits, got {self.destination.prefix!r}")
        if self.days not in DAY_TYPES:
            raise ValueError(f"days must be one of {', '.join(DAY_TYPES)}")
        if not 0 <= self.start_second < self.end_second <= DAY_SECONDS:
            raise ValueError("a window needs 00:00:00 <= start < end <= 24:00:00")
        if not self.tiers or self.grace_time < 0:
            raise ValueError("a rate needs tiers and a grace time >= 0")
        derived = {
            "always": (self.days == ALL and self.start_second == 0
                       and self.end_second == DAY_SECONDS),
            "price_per_minute": next((t.price for t in self.tiers if t.kind == MINUTE), ZERO),
            "window": _window(self.days, self.start_second, self.end_second),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def prefix(self) -> str:
        return self.destination.prefix

    @classmethod
    def wholesale(cls, destination: Destination, price_per_minute: Decimal,
                  connection_fee: Decimal = ZERO, min_time: int = 0, increment: int = 1,
                  **window: Any) -> Rate:
        """MOR's exact conversion of a wholesale rate into tiers."""
        tiers = []
        if connection_fee > 0:
            tiers.append(Tier(0, None, connection_fee, 1, EVENT))
        if min_time > 0:
            tiers.append(Tier(0, min_time, price_per_minute, min_time))
        tiers.append(Tier(min_time, None, price_per_minute, increment))
        return cls(destination, tuple(tiers), **window)

    def covers(self, day_type: str, second_of_day: int) -> bool:
        return (self.days in (ALL, day_type)
                and self.start_second <= second_of_day < self.end_second)


@dataclass(frozen=True)
class Tariff:
    """One version of a tariff, in force from `effective_from_ms` until the next version
    (or `effective_until_ms`)."""

    tariff_id: int
    version: int
    name: str
    currency: str
    effective_from_ms: int
    rates: Mapping[str, tuple[Rate, ...]] = field(repr=False)
    effective_until_ms: int | None = None
    decimals: int = 6
    rounding: str = "half_up"
    calendar: Calendar = field(default_factory=Calendar)
    numbers: NumberPlan = field(default_factory=NumberPlan)
    charge_unanswered: bool = False  # event tiers (connection fees) also for unanswered calls
    longest_prefix: int = field(init=False, repr=False)
    boundaries: Mapping[str, tuple[int, ...]] = field(init=False, repr=False)
    nothing: Decimal = field(init=False, repr=False)  # zero, as `quantize` writes it
    lengths: tuple[int, ...] = field(init=False, repr=False)  # prefix lengths, longest first
    quantum: Decimal = field(init=False, repr=False)  # 1 scaled by -decimals
    rounding_mode: str = field(init=False, repr=False)  # the decimal module's name for it

    def __post_init__(self) -> None:
        if self.rounding not in ROUNDING_MODES:
            raise ValueError(f"rounding must be one of {', '.join(ROUNDING_MODES)}")
        if not 0 <= self.decimals <= 6:
            raise ValueError("decimals must be 0 to 6 (prices are stored to 6 decimals)")
        object.__setattr__(self, "longest_prefix", max(map(len, self.rates), default=0))
        object.__setattr__(self, "boundaries", {
            prefix: tuple(sorted({0, DAY_SECONDS, *(r.start_second for r in rates),
                                  *(r.end_second for r in rates)}))
            for prefix, rates in self.rates.items()
        })
        object.__setattr__(self, "quantum", QUANTA[self.decimals])
        object.__setattr__(self, "rounding_mode", ROUNDING_MODES[self.rounding])
        object.__setattr__(self, "nothing", self.quantize(ZERO))
        object.__setattr__(self, "lengths", tuple(range(self.longest_prefix, 0, -1)))
        object.__setattr__(self, "numbers", self.numbers.interned())

    @classmethod
    def of(cls, tariff_id: int, version: int, name: str, currency: str,
           effective_from_ms: int, rates: Iterable[Rate], **options: Any) -> Tariff:
        grouped: dict[str, list[Rate]] = {}
        for rate in rates:
            grouped.setdefault(rate.prefix, []).append(rate)
        return cls(tariff_id, version, name, currency, effective_from_ms,
                   {p: _checked_windows(p, rs) for p, rs in grouped.items()}, **options)

    def match(self, number: str) -> tuple[Rate, ...] | None:
        """The rates (one per window) of the longest prefix of `number`, or None."""
        return self.match_digits(self.numbers.normalise(number))

    def match_digits(self, digits: str) -> tuple[Rate, ...] | None:
        """`match` for a number this tariff's number plan normalised already."""
        rates = self.rates
        for length in self.lengths:  # a slice past the end is the whole number: harmless
            found = rates.get(digits[:length])
            if found is not None:
                return found
        return None

    def quantize(self, amount: Decimal) -> Decimal:
        return amount.quantize(self.quantum, self.rounding_mode)


@lru_cache(maxsize=1024)
def _window(days: str, start_second: int, end_second: int) -> str:
    return f"{days} {clock(start_second)}-{clock(end_second)}"  # one string for all rates


def rate_at(rates: Sequence[Rate], day_type: str, second_of_day: int) -> Rate | None:
    """The rate whose window covers the moment; a day-type window beats an all-days one."""
    fallback = None
    for rate in rates:
        if rate.covers(day_type, second_of_day):
            if rate.days != ALL:
                return rate
            fallback = rate
    return fallback


def _checked_windows(prefix: str, rates: list[Rate]) -> tuple[Rate, ...]:
    for days in DAY_TYPES:
        spans = sorted((r.start_second, r.end_second) for r in rates if r.days == days)
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise ValueError(f"rates for prefix {prefix} have overlapping {days}-day windows")
    return tuple(rates)


class TariffBook:
    """Every version of every tariff; answers which version was in force when."""

    def __init__(self) -> None:
        self._starts: dict[int, list[tuple[int, int]]] = {}
        self._versions: dict[int, list[Tariff]] = {}

    def add(self, tariff: Tariff) -> None:
        starts = self._starts.setdefault(tariff.tariff_id, [])
        versions = self._versions.setdefault(tariff.tariff_id, [])
        for i, known in enumerate(versions):
            if known.version == tariff.version:  # the same version again: replace it
                del starts[i], versions[i]
                break
        key = (tariff.effective_from_ms, tariff.version)
        at = bisect.bisect_right(starts, key)
        starts.insert(at, key)
        versions.insert(at, tariff)

    def __len__(self) -> int:
        return len(self._versions)

    def in_force(self, tariff_id: int, at_ms: int) -> Tariff | None:
        versions = self._versions.get(tariff_id)
        if versions is not None and len(versions) == 1:  # most tariffs: one version
            tariff = versions[0]
            if at_ms < tariff.effective_from_ms or (
                    tariff.effective_until_ms is not None and at_ms >= tariff.effective_until_ms):
                return None
            return tariff
        starts = self._starts.get(tariff_id)
        if not starts:
            return None
        at = bisect.bisect_right(starts, (at_ms, sys.maxsize))
        if not at:
            return None
        tariff = self._versions[tariff_id][at - 1]
        if tariff.effective_until_ms is not None and at_ms >= tariff.effective_until_ms:
            return None
        return tariff
