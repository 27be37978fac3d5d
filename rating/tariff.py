"""Tariffs: prefix rates, their versions, and the longest-prefix match."""

from __future__ import annotations

import bisect
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Rate:
    prefix: str
    destination: str
    price_per_minute: Decimal
    connection_fee: Decimal = Decimal("0")
    min_time: int = 0
    increment: int = 1

    def __post_init__(self) -> None:
        if not self.prefix.isdigit():
            raise ValueError(f"rate prefix must be digits, got {self.prefix!r}")
        if self.price_per_minute < 0 or self.connection_fee < 0:
            raise ValueError(f"rate {self.prefix}: prices must not be negative")
        if self.min_time < 0 or self.increment < 1:
            raise ValueError(f"rate {self.prefix}: min_time >= 0 and increment >= 1")


@dataclass(frozen=True)
class Tariff:
    """One version of a tariff, in force from `effective_from_ms` until the next one."""

    tariff_id: int
    version: int
    name: str
    currency: str
    effective_from_ms: int
    rates: Mapping[str, Rate] = field(repr=False)
    decimals: int = 6
    longest_prefix: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "longest_prefix", max(map(len, self.rates), default=0))

    @classmethod
    def of(cls, tariff_id: int, version: int, name: str, currency: str,
           effective_from_ms: int, rates: Iterable[Rate], decimals: int = 6) -> Tariff:
        return cls(tariff_id, version, name, currency, effective_from_ms,
                   {rate.prefix: rate for rate in rates}, decimals)

    def match(self, number: str) -> Rate | None:
        """The rate of the longest prefix of `number`, or None."""
        rates = self.rates
        for length in range(min(len(number), self.longest_prefix), 0, -1):
            rate = rates.get(number[:length])
            if rate is not None:
                return rate
        return None


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
        starts = self._starts.get(tariff_id)
        if not starts:
            return None
        at = bisect.bisect_right(starts, (at_ms, sys.maxsize))
        return self._versions[tariff_id][at - 1] if at else None
