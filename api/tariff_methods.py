"""rate_get (alias rate), tariffs_get and tariff_rates_get (alias get_tariff): a user's
price for a prefix, the tariffs the caller may see, and one tariff's whole price list.

Each shows the version of a tariff in force now (projections.tariff_rates, the rater's
rule) in the tariff's own currency, prices exact. cdrflow has no custom rates, so a
user's rate is always his tariff's. The decisions MOR's docs leave open are in
docs/api.md ("rate_get", "tariffs_get", "tariff_rates_get").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from api.access import can_see
from api.errors import ApiError, ErrorKind
from api.hash import mor_hash
from api.methods import Envelope, MethodCall, MorMethod
from api.params import Params
from api.rates import DAY_TYPES, rate_type
from api.user_calls import user_zone
from api.xml import Node, moment, money, render
from projections import tariff_rates
from projections.queries import User, user_by_id
from rating.calendar import clock
from rating.tariff import Rate, Tariff, Tier

RATE_HASHED = ("username",)
TARIFF_RATES_HASHED = ("tariff_id", "user_id")
PROVIDER, USER_WHOLESALE, USER_RETAIL = "provider", "user_wholesale", "user"
OPEN_END = -1  # a retail rate detail's duration to the end of the call
_PREFIX = re.compile(r"\+?([0-9]{1,40})")


def _now_ms(call: MethodCall) -> int:
    return int(call.now().timestamp() * 1000)


def _stamp(epoch_ms: int, zone: ZoneInfo) -> str:
    """`YYYY-MM-DD HH:MM:SS +ZZZZ` in the zone (MOR's last_update_date)."""
    when = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return f"{moment(when, zone)} {when.astimezone(zone).strftime('%z')}"


def _effective(epoch_ms: int, zone: ZoneInfo) -> str:
    return moment(datetime.fromtimestamp(epoch_ms / 1000, tz=UTC), zone)


def all_rates(tariff: Tariff) -> list[Rate]:
    """Every rate of the version by prefix, then day type, then window start."""
    rates = [rate for window in tariff.rates.values() for rate in window]
    return sorted(rates, key=lambda r: (r.prefix, r.days, r.start_second))


def is_wholesale(tariff: Tariff) -> bool:
    """Whether MOR's wholesale columns say every rate of the version exactly."""
    return all(tariff_rates.is_wholesale(rate) for rate in all_rates(tariff))


def purpose(tariff: Tariff, provider_tariffs: set[int]) -> str:
    """`provider` when a provider buys at it; else `user_wholesale` when its wholesale
    columns say every rate, `user` (retail) when some rate needs rate details."""
    if tariff.tariff_id in provider_tariffs:
        return PROVIDER
    return USER_WHOLESALE if is_wholesale(tariff) else USER_RETAIL


# -- rate_get ----------------------------------------------------------------------------


def rate_text(tariff: Tariff | None, prefix: str, by_full_dst: bool) -> str | None:
    """`rate#destination#prefix` of the exact prefix (or, by_full_dst, of the longest
    prefix of the number); the rate is the highest price per minute among the prefix's
    time windows, as the rates page shows it. None: no such rate."""
    if tariff is None:
        return None
    found = tariff.match_digits(prefix) if by_full_dst else tariff.rates.get(prefix)
    if not found:
        return None
    price = max(rate.price_per_minute for rate in found)
    destination = found[0].destination
    return f"{money(price)}#{destination.name}#{destination.prefix}"


async def rate_get(call: MethodCall) -> str:
    context, caller = call.context, call.caller
    if not context.settings.api_rate:
        raise ApiError(ErrorKind.FEATURE_DISABLED)
    username = call.text("username")
    target: User | None = caller
    if username and username != caller.username:
        target = await context.blocking(context.read().user_by_username, username)
    if target is None or not can_see(caller, target):
        raise ApiError(ErrorKind.USER_NOT_FOUND)
    matched = _PREFIX.fullmatch(call.text("prefix").strip())
    if matched is None:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "prefix")
    by_full_dst = call.flag("by_full_dst")
    tariff = await context.query(tariff_rates.user_tariff, target.user_id, _now_ms(call))
    text = rate_text(tariff, matched.group(1), by_full_dst)
    if text is None:
        raise ApiError(ErrorKind.RATE_NOT_FOUND)
    return render(Node("page", [Node("rate", text)]))


# -- tariffs_get -------------------------------------------------------------------------


def tariffs_document(tariffs: Iterable[Tariff], provider_tariffs: set[int],
                     zone: ZoneInfo) -> str:
    return render(Node("page", [Node("tariffs", [
        Node("tariff", [
            Node("id", tariff.tariff_id), Node("name", tariff.name),
            Node("purpose", purpose(tariff, provider_tariffs)),
            Node("currency", tariff.currency),
            Node("last_update_date", _stamp(tariff.effective_from_ms, zone)),
        ])
        for tariff in tariffs
    ])]))


async def _visible_tariff_ids(call: MethodCall) -> list[int]:
    caller, context = call.caller, call.context
    if caller.role in ("admin", "accountant"):
        return await context.query(tariff_rates.tariff_ids)
    if caller.role == "reseller":
        return await context.query(tariff_rates.owned_tariff_ids, caller.user_id)
    own = await context.query(tariff_rates.user_tariff_id, caller.user_id)
    return [own] if own is not None else []


async def tariffs_get(call: MethodCall) -> str:
    ids = await _visible_tariff_ids(call)
    tariffs = await call.context.query(tariff_rates.tariffs_in_force, ids, _now_ms(call))
    if not tariffs:
        raise ApiError(ErrorKind.NO_TARIFFS)
    providers = await call.context.query(tariff_rates.provider_tariff_ids)
    return tariffs_document(tariffs, providers, user_zone(call.caller.timezone))


def u_hash(params: Params, caller: User, secret: str) -> Sequence[str]:
    """tariffs_get's page hashes `u`: SHA1(u + secret) is accepted besides SHA1(secret)."""
    username = params.get("u")
    return [mor_hash([username], secret)] if username else []


# -- tariff_rates_get --------------------------------------------------------------------


def _window(rate: Rate) -> list[Node]:
    return [Node("start_time", clock(rate.start_second)),
            Node("end_time", clock(rate.end_second - 1)),  # the last second, as MOR writes
            Node("daytype", DAY_TYPES.get(rate.days, rate.days))]


def _detail(tier: Tier, rate: Rate) -> Node:
    duration = OPEN_END if tier.end is None else tier.end - tier.start
    return Node("rate", [
        Node("from", tier.start + 1), Node("duration", duration), Node("type", tier.kind),
        Node("round_by", tier.increment), Node("tariff_rate", money(tier.price)),
        *_window(rate),
    ])


def retail_rates(tariff: Tariff) -> list[Node]:
    """One `destination` per prefix with one `rate` (MOR's rate detail) per tier of each
    time window."""
    found = []
    for prefix in sorted(tariff.rates):
        windows = sorted(tariff.rates[prefix], key=lambda r: (r.days, r.start_second))
        d = windows[0].destination
        found.append(Node("destination", [
            Node("destination_group_name", d.name),
            Node("destination_group_type", rate_type(d.kind)),
            Node("prefix", prefix),
            *(_detail(tier, rate) for rate in windows for tier in rate.tiers),
        ]))
    return found


def wholesale_rates(tariff: Tariff, zone: ZoneInfo) -> list[Node]:
    effective = _effective(tariff.effective_from_ms, zone)
    found = []
    for rate in all_rates(tariff):
        d = rate.destination
        price, fee, min_time, increment = tariff_rates.wholesale(rate)
        found.append(Node("rate", [
            Node("direction", d.direction), Node("destination", d.name),
            Node("prefix", d.prefix), Node("subcode", rate_type(d.kind)),
            Node("tariff_rate", money(price)), Node("con_fee", money(fee)),
            Node("increment", increment), Node("min_time", min_time), *_window(rate),
            Node("effective_from", effective),
        ]))
    return found


def tariff_document(tariff: Tariff, provider_tariffs: set[int], zone: ZoneInfo) -> str:
    rates = wholesale_rates(tariff, zone) if is_wholesale(tariff) else retail_rates(tariff)
    return render(Node("page", [
        Node("pagename", "Tariff"), Node("tariff_name", tariff.name),
        Node("purpose", purpose(tariff, provider_tariffs)), Node("currency", tariff.currency),
        Node("rates", rates),
    ]))


async def tariff_rates_get(call: MethodCall) -> str:
    caller, context = call.caller, call.context
    tariff_id, user_id = call.identifier("tariff_id"), call.identifier("user_id")
    shown = caller
    if user_id is not None:  # that user's tariff (tariff_id is then ignored)
        found = caller if user_id == caller.user_id else await context.query(user_by_id,
                                                                               user_id)
        if found is None or not can_see(caller, found):
            raise ApiError(ErrorKind.NO_TARIFF)
        shown, tariff_id = found, None
    elif caller.role == "user":
        tariff_id = None  # a user gets his own tariff, whatever tariff_id says (MOR's rule)
    elif tariff_id is not None and caller.role == "reseller" and tariff_id not in (
            await context.query(tariff_rates.owned_tariff_ids, caller.user_id)):
        raise ApiError(ErrorKind.NO_TARIFF)
    if tariff_id is None:
        tariff_id = await context.query(tariff_rates.user_tariff_id, shown.user_id)
    tariff = (await context.query(tariff_rates.tariff_in_force, tariff_id, _now_ms(call))
              if tariff_id is not None else None)
    if tariff is None:
        raise ApiError(ErrorKind.NO_TARIFF)
    providers = await context.query(tariff_rates.provider_tariff_ids)
    return tariff_document(tariff, providers, user_zone(shown.timezone))


METHODS: list[MorMethod] = [
    MorMethod("rate_get", rate_get, hashed=RATE_HASHED, aliases=("rate",),
              envelope=Envelope.PAGE),
    MorMethod("tariffs_get", tariffs_get, extra_hashes=u_hash, envelope=Envelope.PAGE),
    MorMethod("tariff_rates_get", tariff_rates_get, hashed=TARIFF_RATES_HASHED,
              aliases=("get_tariff",), envelope=Envelope.PAGE,
              unknown_caller=ErrorKind.BAD_LOGIN),
]
