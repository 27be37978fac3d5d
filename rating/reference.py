"""Reference data the rater needs, rebuilt from account and tariff events.

Events arrive as decoded JSON objects (docs/events.md). `apply` validates one and
records it; a bad event raises ValueError with the reason.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rating.fields import integer, money, text
from rating.tariff import Tariff, TariffBook
from rating.tariff_events import (
    TARIFF_SCHEMA,
    ExchangeRate,
    TariffCompleted,
    TariffHeader,
    TariffRates,
    parse_tariff_event,
)

ACCOUNT_SCHEMA = "cdrflow.account-event/1"
ROLES = ("admin", "reseller", "accountant", "user")
ACCOUNT_TYPES = ("prepaid", "postpaid")
# the account events rating reads; the others are parsed by streams.account_events
RATING_ACCOUNT_TYPES = frozenset({
    "user_created", "user_updated", "device_created", "provider_created", "did_created"})
MAX_PIN = 20  # digits of a device PIN
ONE = Decimal(1)
HUNDRED = Decimal(100)


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
    tax_percent: Decimal = Decimal(0)
    account_type: str = "postpaid"  # or prepaid
    credit_limit: Decimal = Decimal(-1)  # how far a postpaid balance may go below 0; -1: no limit
    language: str = "en"
    api_group: str = ""  # the API permission group limiting this user, "" for none
    password_hash: str = ""  # cdrflow.passwords; "" cannot log in
    tax_factor: Decimal = field(init=False, repr=False, compare=False)  # 1 + tax_percent/100

    def __post_init__(self) -> None:
        object.__setattr__(self, "tax_factor", 1 + self.tax_percent / HUNDRED)


@dataclass(frozen=True, slots=True)
class Device:
    device_id: int
    user_id: int
    device_type: str
    name: str
    extension: str
    description: str = ""  # what the devices page shows; the event's default is the name
    username: str = ""  # the SIP/IAX2 login; the event's default is the extension
    callerid: str = ""  # as the switch sends it: `"101" <101>`; "" for none
    pin: str = ""  # MOR's device PIN (digits), "" for a device without one
    # no secret: SIP/IAX2 passwords belong to the switch, never to events (docs/devices.md)


@dataclass(frozen=True, slots=True)
class Provider:
    provider_id: int
    name: str
    tariff_id: int


@dataclass(frozen=True, slots=True)
class Did:
    """A DID number and who pays what for calls through it (tariff 0: nothing)."""

    did: str
    user_id: int  # the owner; 0 while the DID is free
    incoming_tariff_id: int = 0  # the calling user pays (did_inc_price)
    owner_tariff_id: int = 0  # the owner pays (did_price)
    provider_tariff_id: int = 0  # the operator pays the DID's provider (did_prov_price)
    provider_id: int = 0  # the provider the DID comes from (did_create), 0: unknown


class ExchangeBook:
    """Exchange rates over time; the system currency is worth 1."""

    def __init__(self) -> None:
        self._rates: dict[str, list[tuple[int, Decimal]]] = {}

    def add(self, rate: ExchangeRate) -> None:
        history = self._rates.setdefault(rate.currency, [])
        at = bisect.bisect_left(history, rate.effective_from_ms, key=lambda entry: entry[0])
        if at < len(history) and history[at][0] == rate.effective_from_ms:
            history[at] = (rate.effective_from_ms, rate.rate)
        else:
            history.insert(at, (rate.effective_from_ms, rate.rate))

    def rate(self, currency: str, at_ms: int) -> Decimal | None:
        history = self._rates.get(currency)
        if not history:
            return None
        at = bisect.bisect_right(history, at_ms, key=lambda entry: entry[0])
        return history[at - 1][1] if at else None

    def factor(self, source: str, target: str, at_ms: int) -> Decimal | None:
        """Multiply an amount in `source` by this to get `target`; None if unknown."""
        if source == target:
            return ONE
        source_rate, target_rate = self.rate(source, at_ms), self.rate(target, at_ms)
        if source_rate is None or target_rate is None:
            return None
        return target_rate / source_rate


class ReferenceData:
    def __init__(self, system_currency: str = "USD") -> None:
        self.accounts: dict[int, Account] = {}
        self.devices: dict[int, Device] = {}
        self.providers: dict[int, Provider] = {}
        self.dids: dict[str, Did] = {}
        self.tariffs = TariffBook()
        self.exchange = ExchangeBook()
        self.exchange.add(ExchangeRate(system_currency, ONE, 0))
        self._pending: dict[tuple[int, int], tuple[TariffHeader, list[Any]]] = {}

    def apply(self, event: dict[str, Any]) -> object:
        schema = event.get("schema")
        if schema == TARIFF_SCHEMA:
            return self._apply_tariff(parse_tariff_event(event))
        if schema == ACCOUNT_SCHEMA and event.get("type") not in RATING_ACCOUNT_TYPES:
            return None  # phonebooks, callflows, payments...: not rating's business
        thing = parse_account_event(event)
        if isinstance(thing, Account):
            self.accounts[thing.user_id] = thing
        elif isinstance(thing, Device):
            self.devices[thing.device_id] = thing
        elif isinstance(thing, Did):
            self.dids[thing.did] = thing
        else:
            self.providers[thing.provider_id] = thing
        return thing

    def _apply_tariff(self, thing: object) -> object:
        if isinstance(thing, Tariff):
            self.tariffs.add(thing)
        elif isinstance(thing, ExchangeRate):
            self.exchange.add(thing)
        elif isinstance(thing, TariffHeader):
            self._pending[(thing.tariff_id, thing.version)] = (thing, [])
        elif isinstance(thing, TariffRates):
            key = (thing.tariff_id, thing.version)
            if key not in self._pending:
                raise ValueError(f"tariff_rates_added for tariff {key[0]} v{key[1]} "
                                 "without tariff_version_started")
            self._pending[key][1].extend(thing.rates)
        elif isinstance(thing, TariffCompleted):
            header, rates = self._pending.pop((thing.tariff_id, thing.version), (None, []))
            if header is None or len(rates) != thing.rate_count:
                raise ValueError(f"tariff {thing.tariff_id} v{thing.version} is incomplete: "
                                 f"{len(rates)} of {thing.rate_count} rates arrived")
            tariff = Tariff.of(thing.tariff_id, thing.version, rates=rates, **header.options)
            self.tariffs.add(tariff)
            return tariff
        return thing


def parse_account_event(event: dict[str, Any]) -> Account | Device | Provider | Did:
    schema, kind = event.get("schema"), event.get("type")
    if schema == ACCOUNT_SCHEMA and kind in ("user_created", "user_updated"):
        role = text(event, "role")
        if role not in ROLES:
            raise ValueError(f"{kind}: role must be one of {', '.join(ROLES)}")
        tax = money(event, "tax_percent", "0")
        if not 0 <= tax <= 100:
            raise ValueError(f"{kind}: tax_percent must be between 0 and 100")
        account_type = text(event, "account_type", "postpaid")
        if account_type not in ACCOUNT_TYPES:
            raise ValueError(f"{kind}: account_type must be prepaid or postpaid")
        credit = money(event, "credit_limit", "-1")
        if credit < 0 and credit != -1:
            raise ValueError(f"{kind}: credit_limit must be -1 (no limit) or at least 0")
        password_hash = text(event, "password_hash", "")
        if password_hash and not password_hash.startswith("scrypt$"):
            raise ValueError(f"{kind}: password_hash must be a scrypt hash, never a password")
        return Account(
            user_id=integer(event, "user_id"),
            username=text(event, "username"),
            first_name=text(event, "first_name", ""),
            last_name=text(event, "last_name", ""),
            role=role,
            owner_id=integer(event, "owner_id", 0),
            currency=text(event, "currency"),
            tariff_id=integer(event, "tariff_id"),
            timezone=text(event, "timezone", "UTC"),
            tax_percent=tax,
            account_type=account_type,
            credit_limit=credit,
            language=text(event, "language", "en"),
            api_group=text(event, "api_group", ""),
            password_hash=password_hash,
        )
    if schema == ACCOUNT_SCHEMA and kind == "device_created":
        if "secret" in event or "password" in event:
            raise ValueError("device_created: a SIP/IAX2 secret never goes into an event")
        name, extension = text(event, "name", ""), text(event, "extension", "")
        return Device(
            device_id=integer(event, "device_id"),
            user_id=integer(event, "user_id"),
            device_type=text(event, "device_type", "SIP"),
            name=name,
            extension=extension,
            description=text(event, "description", name),
            username=text(event, "username", extension),
            callerid=text(event, "callerid", ""),
            pin=_pin(text(event, "pin", "")),
        )
    if schema == ACCOUNT_SCHEMA and kind == "provider_created":
        return Provider(integer(event, "provider_id"), text(event, "name"),
                        integer(event, "tariff_id"))
    if schema == ACCOUNT_SCHEMA and kind == "did_created":
        did = text(event, "did")
        if not did.isdigit():
            raise ValueError("did_created: did must be digits")
        return Did(did, integer(event, "user_id", 0), integer(event, "incoming_tariff_id", 0),
                   integer(event, "owner_tariff_id", 0), integer(event, "provider_tariff_id", 0),
                   integer(event, "provider_id", 0))
    raise ValueError(f"unknown reference event {schema!r}/{kind!r}")


def _pin(pin: str) -> str:
    if pin and not (pin.isascii() and pin.isdigit() and len(pin) <= MAX_PIN):
        raise ValueError(f"device_created: pin must be 1 to {MAX_PIN} digits")
    return pin


def parse_reference_event(event: dict[str, Any]) -> object:
    """Any account or tariff event, parsed (used to validate before publishing)."""
    if event.get("schema") == TARIFF_SCHEMA:
        return parse_tariff_event(event)
    return parse_account_event(event)
