"""Reference data the rater needs (users and tariffs), rebuilt from their events.

Events arrive as decoded JSON objects (see docs/events.md). `apply` validates one
and returns what changed; a bad event raises ValueError with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from rating.tariff import Rate, Tariff, TariffBook

ACCOUNT_SCHEMA = "cdrflow.account-event/1"
TARIFF_SCHEMA = "cdrflow.tariff-event/1"
ROLES = ("admin", "reseller", "accountant", "user")


@dataclass(frozen=True, slots=True)
class Account:
    user_id: int
    username: str
    first_name: str
    last_name: str
    role: str
    owner_id: int
    currency: str
    tariff_id: int
    timezone: str


@dataclass(frozen=True, slots=True)
class Device:
    device_id: int
    user_id: int
    device_type: str
    name: str
    extension: str


class ReferenceData:
    def __init__(self) -> None:
        self.accounts: dict[int, Account] = {}
        self.devices: dict[int, Device] = {}
        self.tariffs = TariffBook()

    def apply(self, event: dict[str, Any]) -> Account | Device | Tariff:
        thing = parse_reference_event(event)
        if isinstance(thing, Account):
            self.accounts[thing.user_id] = thing
        elif isinstance(thing, Device):
            self.devices[thing.device_id] = thing
        else:
            self.tariffs.add(thing)
        return thing


def parse_reference_event(event: dict[str, Any]) -> Account | Device | Tariff:
    schema, kind = event.get("schema"), event.get("type")
    if schema == ACCOUNT_SCHEMA and kind in ("user_created", "user_updated"):
        role = _text(event, "role")
        if role not in ROLES:
            raise ValueError(f"{kind}: role must be one of {', '.join(ROLES)}")
        return Account(
            user_id=_int(event, "user_id"),
            username=_text(event, "username"),
            first_name=_text(event, "first_name", ""),
            last_name=_text(event, "last_name", ""),
            role=role,
            owner_id=_int(event, "owner_id", 0),
            currency=_text(event, "currency"),
            tariff_id=_int(event, "tariff_id"),
            timezone=_text(event, "timezone", "UTC"),
        )
    if schema == ACCOUNT_SCHEMA and kind == "device_created":
        return Device(
            device_id=_int(event, "device_id"),
            user_id=_int(event, "user_id"),
            device_type=_text(event, "device_type", "SIP"),
            name=_text(event, "name", ""),
            extension=_text(event, "extension", ""),
        )
    if schema == TARIFF_SCHEMA and kind == "tariff_published":
        rows = event.get("rates")
        if not isinstance(rows, list):
            raise ValueError("tariff_published: rates must be a list")
        return Tariff.of(
            tariff_id=_int(event, "tariff_id"),
            version=_int(event, "version"),
            name=_text(event, "name"),
            currency=_text(event, "currency"),
            effective_from_ms=_int(event, "effective_from_ms"),
            rates=[_rate(row, i) for i, row in enumerate(rows)],
            decimals=_int(event, "decimals", 6),
        )
    raise ValueError(f"unknown reference event {schema!r}/{kind!r}")


def _rate(row: Any, index: int) -> Rate:
    if not isinstance(row, dict):
        raise ValueError(f"rates[{index}] is not an object")
    try:
        return Rate(
            prefix=_text(row, "prefix"),
            destination=_text(row, "destination", ""),
            price_per_minute=_money(row, "rate"),
            connection_fee=_money(row, "connection_fee", "0"),
            min_time=_int(row, "min_time", 0),
            increment=_int(row, "increment", 1),
        )
    except ValueError as exc:
        raise ValueError(f"rates[{index}]: {exc}") from None


_REQUIRED = object()


def _text(data: dict[str, Any], name: str, default: Any = _REQUIRED) -> str:
    value = data.get(name, default)
    if value is _REQUIRED:
        raise ValueError(f"field {name} is missing")
    if not isinstance(value, str):
        raise ValueError(f"field {name} must be a string")
    return value


def _int(data: dict[str, Any], name: str, default: Any = _REQUIRED) -> int:
    value = data.get(name, default)
    if value is _REQUIRED:
        raise ValueError(f"field {name} is missing")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise ValueError(f"field {name} must be a non-negative integer below 2**63")
    return value


def _money(data: dict[str, Any], name: str, default: Any = _REQUIRED) -> Decimal:
    value = _text(data, name, default)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"field {name} is not a decimal number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"field {name} must be finite")
    return amount
