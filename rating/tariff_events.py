"""Tariff events (`cdrflow.tariff-event/1`) into tariff versions and exchange rates.

A small tariff is one `tariff_published` event. A large one is a version in parts, all
keyed by the tariff id so they stay in order: `tariff_version_started` (the header),
any number of `tariff_rates_added`, then `tariff_version_published`, which makes the
version usable; until then the rater does not see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from rating.calendar import ALL, Calendar, zone
from rating.fields import REQUIRED, flag, integer, money, objects, optional_integer, text
from rating.numbers import NumberPlan
from rating.tariff import DAY_SECONDS, MINUTE, Destination, Rate, Tariff, Tier

TARIFF_SCHEMA = "cdrflow.tariff-event/1"


@dataclass(frozen=True, slots=True)
class TariffHeader:
    tariff_id: int
    version: int
    options: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TariffRates:
    tariff_id: int
    version: int
    rates: tuple[Rate, ...]


@dataclass(frozen=True, slots=True)
class TariffCompleted:
    tariff_id: int
    version: int
    rate_count: int


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """`rate` units of `currency` buy one unit of the system currency."""

    currency: str
    rate: Decimal
    effective_from_ms: int


TariffEvent = Tariff | TariffHeader | TariffRates | TariffCompleted | ExchangeRate


def parse_tariff_event(event: dict[str, Any]) -> TariffEvent:
    kind = event.get("type")
    if kind == "tariff_published":
        header = _header(event)
        return Tariff.of(header.tariff_id, header.version, rates=_rates(event),
                         **header.options)
    if kind == "tariff_version_started":
        return _header(event)
    if kind == "tariff_rates_added":
        return TariffRates(integer(event, "tariff_id"), integer(event, "version"),
                           tuple(_rates(event)))
    if kind == "tariff_version_published":
        return TariffCompleted(integer(event, "tariff_id"), integer(event, "version"),
                               integer(event, "rate_count"))
    if kind == "exchange_rate_set":
        rate = money(event, "rate")
        if rate <= 0:
            raise ValueError("exchange_rate_set: rate must be positive")
        return ExchangeRate(_currency(event, "currency"), rate,
                            integer(event, "effective_from_ms", 0))
    raise ValueError(f"unknown tariff event type {kind!r}")


def _header(event: dict[str, Any]) -> TariffHeader:
    plan = event.get("number_plan", {})
    if not isinstance(plan, dict):
        raise ValueError("field number_plan must be an object")
    weekend = event.get("weekend", [5, 6])
    if not isinstance(weekend, list) or not all(d in range(7) for d in weekend):
        raise ValueError("field weekend must list weekday numbers 0 (Monday) to 6 (Sunday)")
    holidays = event.get("holidays", [])
    if not isinstance(holidays, list) or not all(isinstance(d, str) for d in holidays):
        raise ValueError("field holidays must list dates (YYYY-MM-DD)")
    try:
        days = frozenset(date.fromisoformat(d) for d in holidays)
    except ValueError:
        raise ValueError("field holidays must list dates (YYYY-MM-DD)") from None
    calendar = Calendar(text(event, "timezone", "UTC"), frozenset(weekend), days)
    _check_zone(calendar)
    options: dict[str, Any] = {
        "name": text(event, "name"),
        "currency": _currency(event, "currency"),
        "effective_from_ms": integer(event, "effective_from_ms"),
        "effective_until_ms": optional_integer(event, "effective_until_ms"),
        "decimals": integer(event, "decimals", 6),
        "rounding": text(event, "rounding", "half_up"),
        "charge_unanswered": flag(event, "charge_unanswered"),
        "calendar": calendar,
        "numbers": NumberPlan(text(plan, "country_code", ""), text(plan, "national_prefix", "0"),
                              text(plan, "international_prefix", "00")),
    }
    return TariffHeader(integer(event, "tariff_id"), integer(event, "version"), options)


def _rates(event: dict[str, Any]) -> list[Rate]:
    rates = []
    for index, row in enumerate(objects(event, "rates")):
        try:
            rates.append(rate_from_json(row))
        except ValueError as exc:
            raise ValueError(f"rates[{index}]: {exc}") from None
    return rates


def rate_from_json(row: dict[str, Any]) -> Rate:
    destination = Destination(text(row, "prefix"), text(row, "destination", ""),
                              text(row, "direction", ""), text(row, "kind", ""),
                              text(row, "group", ""))
    window: dict[str, Any] = {
        "days": text(row, "days", ALL),
        "start_second": _clock(row, "start_time", "00:00:00"),
        "end_second": _clock(row, "end_time", "24:00:00"),
        "grace_time": integer(row, "grace_time", 0),
    }
    if "tiers" in row:
        tiers = tuple(_tier(t, i) for i, t in enumerate(objects(row, "tiers")))
        return Rate(destination, tiers, **window)
    return Rate.wholesale(destination, money(row, "rate"), money(row, "connection_fee", "0"),
                          integer(row, "min_time", 0), integer(row, "increment", 1), **window)


def _tier(row: dict[str, Any], index: int) -> Tier:
    try:
        return Tier(integer(row, "start", 0), optional_integer(row, "end"), money(row, "price"),
                    integer(row, "increment", 1), text(row, "kind", MINUTE))
    except ValueError as exc:
        raise ValueError(f"tiers[{index}]: {exc}") from None


def _clock(row: dict[str, Any], name: str, default: str) -> int:
    value = text(row, name, default)
    parts = value.split(":")
    if len(parts) != 3 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"field {name} must be HH:MM:SS")
    hours, minutes, seconds = map(int, parts)
    total = hours * 3600 + minutes * 60 + seconds
    if minutes > 59 or seconds > 59 or total > DAY_SECONDS:
        raise ValueError(f"field {name} must be a time of day from 00:00:00 to 24:00:00")
    return total


def _currency(data: dict[str, Any], name: str) -> str:
    value = text(data, name, REQUIRED)
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValueError(f"field {name} must be an ISO 4217 code like USD")
    return value


def _check_zone(calendar: Calendar) -> None:
    try:
        zone(calendar.timezone)
    except (ValueError, KeyError, OSError):
        raise ValueError(f"unknown time zone {calendar.timezone!r}") from None
