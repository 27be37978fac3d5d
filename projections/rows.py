"""Pure conversions from records to ClickHouse rows (column order = the INSERT's)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rating.cdr import Cdr
from rating.reference import Account, Device

CDR_COLUMNS = (
    "call_id", "version", "calldate", "calldate_ms", "answer_ms", "end_ms", "user_id",
    "device_id", "server_id", "uniqueid", "channel", "src", "dst", "clid", "disposition",
    "hangup_cause", "duration", "billsec", "user_billsec", "prefix", "destination",
    "tariff_id", "tariff_version", "currency", "user_rate", "user_price", "provider_id",
    "provider_name", "provider_rate", "provider_price", "reseller_id", "reseller_rate",
    "reseller_price", "did", "did_inc_price", "did_price", "did_prov_price", "profit",
    "direction", "destination_group", "tariff_currency", "exchange_rate", "tax_percent",
    "user_price_with_tax", "rate_pieces", "closed_by",
)
USER_COLUMNS = (
    "user_id", "username", "first_name", "last_name", "role", "owner_id", "currency",
    "tariff_id", "timezone", "version", "tax_percent", "account_type", "credit_limit",
    "language", "api_group", "password_hash",
)
# Decimal columns and their scale; the money ones are Decimal(18, 6)
_SCALES = {f.name: 6 for f in fields(Cdr) if f.type == "Decimal"} | {
    "exchange_rate": 10, "tax_percent": 4}
DEVICE_COLUMNS = ("device_id", "user_id", "device_type", "name", "extension", "version",
                  "description", "username", "callerid", "pin")


# Column limits of the cdrs table: a value outside them would make ClickHouse refuse
# the whole batch, so the record is refused here instead (it goes to dead-letters).
_NARROW = {"hangup_cause": 2**16, "server_id": 2**32, "duration": 2**32,
           "billsec": 2**32, "user_billsec": 2**32, "start_ms": 4_294_967_295_000}
_UINT_LIMITS = {f.name: _NARROW.get(f.name, 2**64) for f in fields(Cdr) if f.type == "int"}
_MONEY_LIMIT = Decimal(10) ** 12


def cdr_row(cdr: Cdr) -> tuple[Any, ...]:
    """The cdrs row of a CDR; raises ValueError when a value does not fit its column."""
    for name, limit in _UINT_LIMITS.items():
        if getattr(cdr, name) >= limit:
            raise ValueError(f"CDR field {name} is out of range")
    for name, scale in _SCALES.items():
        value = getattr(cdr, name)
        if abs(value) >= _MONEY_LIMIT or value != value.quantize(Decimal(1).scaleb(-scale)):
            raise ValueError(f"CDR field {name} does not fit its Decimal column")
    calldate = datetime.fromtimestamp(cdr.start_ms // 1000, tz=UTC)
    return (
        cdr.call_id, cdr.version, calldate, cdr.start_ms % 1000, cdr.answer_ms, cdr.end_ms,
        cdr.user_id, cdr.device_id, cdr.server_id, cdr.uniqueid, cdr.channel, cdr.src,
        cdr.dst, cdr.clid, cdr.disposition, cdr.hangup_cause, cdr.duration, cdr.billsec,
        cdr.user_billsec, cdr.prefix, cdr.destination, cdr.tariff_id, cdr.tariff_version,
        cdr.currency, cdr.user_rate, cdr.user_price, cdr.provider_id, cdr.provider_name,
        cdr.provider_rate, cdr.provider_price, cdr.reseller_id, cdr.reseller_rate,
        cdr.reseller_price, cdr.did, cdr.did_inc_price, cdr.did_price, cdr.did_prov_price,
        cdr.profit, cdr.direction, cdr.destination_group, cdr.tariff_currency,
        cdr.exchange_rate, cdr.tax_percent, cdr.user_price_with_tax, cdr.rate_pieces,
        cdr.closed_by,
    )


def user_row(account: Account, version: int) -> tuple[Any, ...]:
    return (
        account.user_id, account.username, account.first_name, account.last_name,
        account.role, account.owner_id, account.currency, account.tariff_id,
        account.timezone, version, account.tax_percent, account.account_type,
        account.credit_limit, account.language, account.api_group, account.password_hash,
    )


def device_row(device: Device, version: int) -> tuple[Any, ...]:
    return (device.device_id, device.user_id, device.device_type, device.name,
            device.extension, version, device.description, device.username, device.callerid,
            device.pin)
