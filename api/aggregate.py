"""aggregate_get (MOR X18): CDR statistics grouped by originator, terminator, destination
group and more, with totals (docs/api.md, "aggregate_get").

Admins and accountants count every call; a reseller counts the calls of the users he owns
(his cost, the terminator price, is then `reseller_price`, and providers stay hidden);
a simple user is refused. Counted in ClickHouse over `cdrs FINAL`
(projections.aggregates); prices are converted into `a_currency` per CDR currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from api.call_quality import average, percent
from api.context import Reader
from api.errors import ApiError, ErrorKind
from api.methods import Envelope, MethodCall, MorMethod
from api.user_calls import user_zone
from api.xml import Node, moment, money, render
from projections.aggregates import GROUPS, AggregateFilter, Partial, in_currency, partials
from projections.callflow import devices_by_ids
from projections.providers import providers
from projections.queries import User
from projections.tariff_rates import SYSTEM_CURRENCY, exchange_rates

PRIVILEGED = ("admin", "accountant")
DEFAULT_GROUPS = ("user", "terminator", "dst_group")
# parameter -> grouping (projections.aggregates.GROUPS), in the order they are read
GROUP_FLAGS = (
    ("group_by_user", "user"), ("group_by_originator", "user"),
    ("group_by_device", "device"), ("group_by_terminator", "terminator"),
    ("group_by_provider", "terminator"), ("group_by_dst_group", "dst_group"),
    ("group_by_dst", "dst"), ("group_by_day", "day"), ("group_by_hour", "hour"),
    ("group_by_user_rate", "user_rate"), ("group_by_provider_rate", "provider_rate"),
)
PROVIDER_GROUPS = ("terminator", "provider_rate")  # never shown to a reseller
MAX_SECONDS = 10**9
CENT = Decimal("0.01")
_PATTERN = re.compile(r"[0-9A-Za-z+*#%]{1,64}")
_CURRENCY = re.compile(r"[A-Za-z0-9]{1,10}")
_TEXT_LIMIT = 256


@dataclass
class Sums:
    """One row's figures, in the answer's currency."""

    calls: int = 0
    answered: int = 0
    billed_ms: int = 0
    originator_price: Decimal = Decimal(0)
    terminator_price: Decimal = Decimal(0)
    names: tuple[str, ...] = field(default=())

    def add(self, other: Sums) -> None:
        self.calls += other.calls
        self.answered += other.answered
        self.billed_ms += other.billed_ms
        self.originator_price += other.originator_price
        self.terminator_price += other.terminator_price

    @property
    def profit(self) -> Decimal:
        return self.originator_price - self.terminator_price


async def aggregate_get(call: MethodCall) -> str:
    caller = call.caller
    zone = user_zone(caller.timezone)
    today = call.now().astimezone(zone).date()
    start = _seconds(call, "from", datetime.combine(today, time.min, zone))
    end = _seconds(call, "till", datetime.combine(today, time(23, 59, 59), zone))
    currency = _currency(call, caller)
    groups = _groups(call, caller)
    where = AggregateFilter(start, end, zone.key, groups,
                            owner_id=caller.user_id if caller.role == "reseller" else None,
                            cost="provider" if caller.role in PRIVILEGED else "reseller")
    where = await _filters(call, caller, where)
    found = await call.context.query(partials, where)
    rates = await call.context.blocking(exchange_rates_for, call.context.read(), currency,
                                        found, end)
    rows = combine(found, currency, rates)
    names = await _names(call, groups, rows)
    return render_answer(start, end, zone.key, currency, groups, rows, names,
                         where.real_billsec)


def combine(found: list[Partial], currency: str,
            rates: dict[str, Decimal]) -> dict[tuple[str, ...], Sums]:
    """Each group's partials in `currency` (ordered as found)."""
    rows: dict[tuple[str, ...], Sums] = {}
    for part in found:
        row = rows.setdefault(part.key, Sums(names=part.names))
        row.add(Sums(part.calls, part.answered, part.billed_ms,
                     in_currency(part.originator_price, part.currency, currency, rates),
                     in_currency(part.terminator_price, part.currency, currency, rates)))
    return rows


def render_answer(start: int, end: int, zone_name: str, currency: str,
                  groups: tuple[str, ...], rows: dict[tuple[str, ...], Sums],
                  names: dict[tuple[str, str], str], real: bool) -> str:
    zone = user_zone(zone_name)
    total = Sums()
    listed = []
    for key, row in rows.items():
        total.add(row)
        shown: list[Node] = []
        for group, value, name in zip(groups, key, row.names, strict=True):
            shown += _group_nodes(group, value, name, names)
        listed.append(Node("aggregate", [*shown, *figures(row, real)]))
    return render(Node("page", [
        Node("period", [Node("from", moment(datetime.fromtimestamp(start, UTC), zone)),
                        Node("till", moment(datetime.fromtimestamp(end, UTC), zone))]),
        Node("currency", currency),
        Node("aggregates", listed),
        Node("totals", figures(total, real)),
    ]))


def figures(row: Sums, real: bool) -> list[Node]:
    billed = (Decimal(row.billed_ms) / 1000).quantize(Decimal("0.001")) if real \
        else Decimal(row.billed_ms // 1000)
    return [
        Node("total_calls", row.calls),
        Node("answered_calls", row.answered),
        Node("asr", percent(row.answered, row.calls)),
        Node("acd", average(row.billed_ms, row.answered * 1000)),
        Node("billsec", billed),
        Node("originator_price", money(row.originator_price)),
        Node("terminator_price", money(row.terminator_price)),
        Node("profit", money(row.profit)),
        Node("margin", margin(row.profit, row.originator_price)),
    ]


def margin(profit: Decimal, revenue: Decimal) -> str:
    """Profit in percent of the revenue, two decimals half-up; "0.00" without revenue."""
    if revenue.is_zero():
        return "0.00"
    return str((profit * 100 / revenue).quantize(CENT, rounding=ROUND_HALF_UP))


def _group_nodes(group: str, value: str, name: str,
                 names: dict[tuple[str, str], str]) -> list[Node]:
    if group == "user":
        return [Node("originator_id", value), Node("originator", names.get(("user", value), ""))]
    if group == "device":
        return [Node("device_id", value), Node("device", names.get(("device", value), ""))]
    if group == "terminator":
        return [Node("terminator_id", value), Node("terminator", name)]
    if group == "dst":
        return [Node("dst", value), Node("destination", name)]
    if group == "day":
        return [Node("day", f"{value[:4]}-{value[4:6]}-{value[6:8]}")]
    if group == "hour":
        return [Node("hour", f"{value[:4]}-{value[4:6]}-{value[6:8]} {value[8:10]}:00")]
    if group in ("user_rate", "provider_rate"):
        return [Node(group, money(Decimal(value)))]
    return [Node(group, value)]


def _seconds(call: MethodCall, name: str, default: datetime) -> int:
    found = call.seconds(name)
    return int(default.timestamp()) if found is None else found


def _currency(call: MethodCall, caller: User) -> str:
    value = call.params.get("a_currency")
    if value is None:
        return caller.currency or SYSTEM_CURRENCY
    if not _CURRENCY.fullmatch(value):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "a_currency")
    return value.upper()


def _groups(call: MethodCall, caller: User) -> tuple[str, ...]:
    chosen = {group for flag, group in GROUP_FLAGS if call.flag(flag)}
    if not chosen:
        chosen = set(DEFAULT_GROUPS)
    if caller.role not in PRIVILEGED:
        chosen -= set(PROVIDER_GROUPS)
    return tuple(group for group in GROUPS if group in chosen)


async def _filters(call: MethodCall, caller: User, where: AggregateFilter) -> AggregateFilter:
    """The filters in documented order; each unknown or invisible one answers its error."""
    user_id = _id(call, "s_originator_id", ErrorKind.USER_NOT_FOUND)
    if user_id is not None:
        target = await call.context.blocking(call.context.read().user_by_id, user_id)
        if target is None or not _counted(caller, target):
            raise ApiError(ErrorKind.USER_NOT_FOUND)
    terminator = await _provider(call, caller, "s_terminator_id",
                                 ErrorKind.TERMINATOR_NOT_FOUND)
    device_id = _id(call, "s_device", ErrorKind.DEVICE_NOT_FOUND)
    if device_id is not None:
        device = (await call.context.query(devices_by_ids, [device_id])).get(device_id)
        owner = await call.context.blocking(call.context.read().user_by_id,
                                            device.user_id) if device else None
        if owner is None or not _counted(caller, owner):
            raise ApiError(ErrorKind.DEVICE_NOT_FOUND)
    provider = await _provider(call, caller, "s_provider", ErrorKind.PROVIDER_NOT_FOUND)
    src, dst = _pattern(call, "a_src"), _pattern(call, "a_dst")
    seconds = call.params.get("s_duration")
    if seconds is not None and (not seconds.isascii() or not seconds.isdigit()
                                or int(seconds) > MAX_SECONDS):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "s_duration")
    group = call.params.get("dst_group")
    if group is not None and len(group) > _TEXT_LIMIT:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "dst_group")
    return replace(where, user_id=user_id, device_id=device_id, terminator_id=terminator,
                   provider_id=provider, src=src, dst=dst, min_seconds=int(seconds or 0),
                   dst_group=group, real_billsec=call.flag("use_real_billsec"))


def _counted(caller: User, target: User) -> bool:
    """Whether the target's calls are among those the caller counts."""
    if caller.role in PRIVILEGED:
        return True
    return caller.role == "reseller" and target.owner_id == caller.user_id \
        and target.user_id != caller.user_id


def _id(call: MethodCall, name: str, error: ErrorKind) -> int | None:
    value = call.params.get(name)
    if value is not None and value.lower() == "all":
        return None
    return call.identifier(name, error)


async def _provider(call: MethodCall, caller: User, name: str,
                    error: ErrorKind) -> int | None:
    provider_id = _id(call, name, error)
    if provider_id is None:
        return None
    if caller.role not in PRIVILEGED or provider_id not in {
            p.provider_id for p in await call.context.query(providers)}:
        raise ApiError(error)
    return provider_id


def _pattern(call: MethodCall, name: str) -> str | None:
    """A number pattern: `%` any text; without `%`, a prefix."""
    value = call.params.get(name)
    if value is None:
        return None
    if not _PATTERN.fullmatch(value):
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return value if "%" in value else f"{value}%"


def exchange_rates_for(reader: Reader, target: str, found: list[Partial],
                       end: int) -> dict[str, Decimal]:
    """The exchange rates in force at `end` (epoch seconds; for a currency that had none
    yet, its latest). `target` must be the system currency, have a rate or be a currency
    of the calls found; each currency with money to convert into it needs a rate.
    Otherwise `Invalid parameter: a_currency`."""
    sources = {p.currency for p in found if p.currency != target and not (
        p.originator_price.is_zero() and p.terminator_price.is_zero())}
    wanted = sources | {target} if sources else set()
    rates = reader.query(exchange_rates, min(end, 2**32 - 1) * 1000)
    if not wanted <= rates.keys() or target not in rates:
        rates = {**reader.query(exchange_rates, 2**62), **rates}
    seen = {p.currency for p in found}
    if not wanted <= rates.keys() or (target not in rates and target not in seen):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "a_currency")
    return rates


async def _names(call: MethodCall, groups: tuple[str, ...],
                 rows: dict[tuple[str, ...], Sums]) -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    if "user" in groups:
        at = groups.index("user")
        ids = {int(key[at]) for key in rows}
        users = await call.context.blocking(call.context.read().users_by_ids, ids)
        names.update({("user", str(i)): u.nice_name for i, u in users.items()})
    if "device" in groups:
        at = groups.index("device")
        devices = await call.context.query(devices_by_ids, {int(key[at]) for key in rows})
        names.update({("device", str(i)): d.label for i, d in devices.items()})
    return names


METHODS: list[MorMethod] = [
    MorMethod("aggregate_get", aggregate_get, roles=frozenset({"admin", "reseller",
                                                                "accountant"}),
              envelope=Envelope.PAGE),
]
