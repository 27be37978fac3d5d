"""Grouped CDR statistics (aggregate_get, quickstats_get) and on-net calls (local_calls_get).

Everything is read from `cdrs FINAL`, so a CDR delivered twice or re-rated counts once,
with its latest version. Sums are taken per group and per CDR currency (a CDR's prices
are in its user's currency); the API converts each currency's sums (`in_currency`).
Grouping columns come from the whitelist `GROUPS`; request text never enters SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from clickhouse_driver import Client

UINT32_MAX = 2**32 - 1  # DateTime's last second
MICRO = Decimal("0.000001")
ANSWERED = "disposition = 'ANSWERED'"
PERIOD = "calldate >= toDateTime(%(start)s) AND calldate <= toDateTime(%(end)s)"
REAL_MS = "if(answer_ms > 0 AND end_ms > answer_ms, end_ms - answer_ms, 0)"
# grouping name -> (key expression, name expression or "" when the key is its own name)
GROUPS: dict[str, tuple[str, str]] = {
    "user": ("user_id", ""),
    "device": ("device_id", ""),
    "terminator": ("provider_id", "argMax(provider_name, calldate)"),
    "dst_group": ("destination_group", ""),
    "dst": ("prefix", "argMax(destination, calldate)"),
    "day": ("toYYYYMMDD(calldate, %(zone)s)", ""),
    "hour": ("toYYYYMMDD(calldate, %(zone)s) * 100 + toHour(calldate, %(zone)s)", ""),
    "user_rate": ("toString(user_rate)", ""),
    "provider_rate": ("toString(provider_rate)", ""),
}
_NUMBER = re.compile(r"-?[0-9]{1,40}(\.[0-9]{1,40})?")
COSTS = {"provider": "provider_price", "reseller": "reseller_price"}


@dataclass(frozen=True, slots=True)
class AggregateFilter:
    """The CDRs counted: calldate in [start, end] (epoch seconds, inclusive), and the
    optional narrowing filters. `owner_id`: only calls of the users this reseller owns."""

    start: int
    end: int
    zone: str = "UTC"  # IANA name: the day and hour groups' time zone
    groups: tuple[str, ...] = ()  # names of GROUPS, in GROUPS' order
    user_id: int | None = None
    owner_id: int | None = None
    device_id: int | None = None
    terminator_id: int | None = None  # MOR's terminator: a provider in cdrflow
    provider_id: int | None = None
    src: str | None = None  # LIKE pattern (digits, letters, + * # and %)
    dst: str | None = None
    min_seconds: int = 0  # billed seconds at least this (0: no filter)
    dst_group: str | None = None
    real_billsec: bool = False  # billed time from answer_ms..end_ms, not billsec
    cost: str = "provider"  # COSTS key: whose cost the terminator price is


@dataclass(frozen=True, slots=True)
class Partial:
    """The calls of one group in one currency."""

    key: tuple[str, ...]  # the group values, as text, in the filter's groups' order
    names: tuple[str, ...]  # the group names ("" when the key names itself)
    currency: str
    calls: int
    answered: int
    billed_ms: int  # answered calls' billed time, milliseconds
    originator_price: Decimal  # user_price + did_inc_price
    terminator_price: Decimal  # provider_price (reseller_price for a reseller)


@dataclass(frozen=True, slots=True)
class LocalCall:
    """A device-to-device call: the CDR's caller and the cdrflow device or user it reached."""

    calldate: datetime  # aware, UTC
    call_id: str
    user_id: int
    device_id: int
    caller_id: str  # clid, else src
    channel: str
    terminator_user_id: int
    terminator_device_id: int  # 0 when the call reached a user's DID


def partials(client: Client, where: AggregateFilter) -> list[Partial]:
    """Counts and sums per group and currency, ordered by group values then currency."""
    unknown = [name for name in where.groups if name not in GROUPS]
    if unknown or where.cost not in COSTS:
        raise ValueError(f"unknown grouping or cost {unknown or where.cost!r}")
    condition, params = _where(where)
    keys = [f"toString({GROUPS[name][0]}) AS g{i}" for i, name in enumerate(where.groups)]
    names = [GROUPS[name][1] or "''" for name in where.groups]
    billed = REAL_MS if where.real_billsec else "billsec * 1000"
    columns = [*keys, *names, "currency", "count()", f"countIf({ANSWERED})",
               f"sumIf({billed}, {ANSWERED})", "toString(sum(user_price + did_inc_price))",
               f"toString(sum({COSTS[where.cost]}))"]
    group = ", ".join([*(f"g{i}" for i in range(len(keys))), "currency"])
    rows = client.execute(
        f"SELECT {', '.join(columns)} FROM cdrs FINAL WHERE {condition} GROUP BY {group}",
        params)
    width = len(keys)
    found = [Partial(tuple(_text(v) for v in row[:width]),
                     tuple(_text(v) for v in row[width:2 * width]), _text(row[2 * width]),
                     int(row[2 * width + 1]), int(row[2 * width + 2]),
                     int(row[2 * width + 3]), Decimal(_text(row[2 * width + 4])),
                     Decimal(_text(row[2 * width + 5]))) for row in rows]
    return sorted(found, key=lambda p: (tuple(_order(v) for v in p.key), p.currency))


def in_currency(amount: Decimal, source: str, target: str,
                rates: dict[str, Decimal]) -> Decimal:
    """`amount` of `source` in `target`: times target's rate over source's (units of a
    currency per unit of the system currency), rounded half-up to 6 decimals. The same
    currency, or zero, is returned unchanged. Raises KeyError for a missing rate."""
    if source == target or amount.is_zero():
        return amount
    return (amount * rates[target] / rates[source]).quantize(MICRO, rounding=ROUND_HALF_UP)


def local_calls(client: Client, user_id: int | None, start: int,
                end: int) -> list[LocalCall]:
    """The local calls from `start` to `end` (epoch seconds, inclusive), oldest first;
    only those `user_id` made or received when given.

    A local call is a CDR that reached a cdrflow device or user: either its `dst` is the
    extension of another device and no provider carried it (`provider_id` 0), or it came
    through a DID that a user owns (`dids FINAL`, owner not 0). When both hold, the
    device wins. Of devices sharing an extension, the lowest id other than the caller's."""
    params: dict[str, Any] = {"start": _clamp(start), "end": _clamp(end)}
    owned = "(SELECT did FROM dids FINAL WHERE user_id != 0)"
    extensions = "(SELECT extension FROM devices FINAL WHERE extension != '')"
    condition = f"{PERIOD} AND (did IN {owned} OR (provider_id = 0 AND dst IN {extensions}))"
    if user_id is not None:
        params["user_id"] = user_id
        condition += (
            " AND (user_id = %(user_id)s OR did IN (SELECT did FROM dids FINAL "
            "WHERE user_id = %(user_id)s AND user_id != 0) OR (provider_id = 0 AND dst IN "
            "(SELECT extension FROM devices FINAL WHERE user_id = %(user_id)s "
            "AND extension != '')))")
    rows = client.execute(
        "SELECT toUInt32(calldate), call_id, user_id, device_id, src, clid, channel, dst, "
        f"did, provider_id FROM cdrs FINAL WHERE {condition} "
        "ORDER BY calldate, calldate_ms, call_id", params)
    if not rows:
        return []
    dsts = tuple(sorted({_text(row[7]) for row in rows}))
    dids = tuple(sorted({_text(row[8]) for row in rows if row[8]}))
    devices: dict[str, list[tuple[int, int]]] = {}
    for device_id, owner, extension in client.execute(
            "SELECT device_id, user_id, extension FROM devices FINAL "
            "WHERE extension IN %(dsts)s ORDER BY device_id", {"dsts": dsts}):
        devices.setdefault(_text(extension), []).append((int(device_id), int(owner)))
    owners = {_text(did): int(owner) for did, owner in client.execute(
        "SELECT did, user_id FROM dids FINAL WHERE did IN %(dids)s AND user_id != 0",
        {"dids": dids})} if dids else {}
    found = []
    for calldate, call_id, caller, device, src, clid, channel, dst, did, provider in rows:
        reached = [d for d in devices.get(_text(dst), []) if d[0] != int(device)]
        if reached and int(provider) == 0:
            terminator_device, terminator_user = reached[0]
        elif _text(did) in owners:
            terminator_device, terminator_user = 0, owners[_text(did)]
        else:
            continue  # the caller's own extension
        if user_id is not None and user_id not in (int(caller), terminator_user):
            continue
        found.append(LocalCall(datetime.fromtimestamp(int(calldate), UTC), _text(call_id),
                               int(caller), int(device), _text(clid) or _text(src),
                               _text(channel), terminator_user, terminator_device))
    return found


def _where(where: AggregateFilter) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"start": _clamp(where.start), "end": _clamp(where.end),
                              "zone": where.zone}
    conditions = [PERIOD]
    filters: list[tuple[str, str, object]] = [
        ("user_id", "user_id = %(user_id)s", where.user_id),
        ("owner_id", "user_id IN (SELECT user_id FROM users FINAL "
                     "WHERE owner_id = %(owner_id)s AND user_id != %(owner_id)s)",
         where.owner_id),
        ("device_id", "device_id = %(device_id)s", where.device_id),
        ("terminator_id", "provider_id = %(terminator_id)s", where.terminator_id),
        ("provider_id", "provider_id = %(provider_id)s", where.provider_id),
        ("src", "src LIKE %(src)s", where.src),
        ("dst", "dst LIKE %(dst)s", where.dst),
        ("dst_group", "destination_group = %(dst_group)s", where.dst_group),
    ]
    for name, condition, value in filters:
        if value is not None:
            conditions.append(condition)
            params[name] = value
    if where.min_seconds > 0:
        billed = REAL_MS if where.real_billsec else "billsec * 1000"
        conditions.append(f"{billed} >= %(min_ms)s")
        params["min_ms"] = where.min_seconds * 1000
    return " AND ".join(conditions), params


def _order(value: str) -> tuple[int, Decimal, str]:
    """Numbers sort as numbers, before text."""
    if _NUMBER.fullmatch(value):
        return (0, Decimal(value), "")
    return (1, Decimal(0), value)


def _clamp(seconds: int) -> int:
    return min(max(seconds, 0), UINT32_MAX)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
