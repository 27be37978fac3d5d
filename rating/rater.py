"""Rating: a finished call and the reference data in force become a CDR or a rejection.

Sides of one call (MOR's user_calls_get fields): the user (retail) price from the
user's tariff; the reseller price from the reseller's tariff when the user belongs to
a reseller; the provider (buy) price from the provider's tariff; profit = user price
minus provider price. Prices are shown in the user's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from rating.call import Call
from rating.cdr import Cdr
from rating.disposition import ANSWERED, disposition
from rating.numbers import NumberPlan
from rating.price import NoRateInForce, Piece, Priced, price_call
from rating.reference import ReferenceData
from rating.tariff import ZERO, Rate, Tariff

UNKNOWN_USER = "unknown_user"
UNKNOWN_PROVIDER = "unknown_provider"
NO_TARIFF = "no_tariff"
NO_RATE = "no_rate"
NO_EXCHANGE_RATE = "no_exchange_rate"
UNKNOWN_DID = "unknown_did"
UNKNOWN_DEVICE = "unknown_device"
MICRO = Decimal("0.000001")
RATE_PLACES = Decimal("0.0000000001")
ONE_RECORDED = Decimal(1).quantize(RATE_PLACES)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A call that cannot be priced; operators list these and re-rate them later."""

    call_id: str
    reason: str
    detail: str


class Rejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class Side(NamedTuple):  # one price side of one call (a named tuple: cheap to make)
    tariff: Tariff
    rate: Rate | None
    priced: Priced | None

    @property
    def amount(self) -> Decimal:
        return self.priced.amount if self.priced else ZERO


class _Number:
    """The dialled number, normalised once for each number plan that asks (the sides of
    a call usually share one plan)."""

    __slots__ = ("digits", "plan", "text")

    def __init__(self, text: str) -> None:
        self.text, self.digits = text, ""
        self.plan: NumberPlan | None = None

    def digits_for(self, plan: NumberPlan) -> str:
        if plan is not self.plan:
            self.plan, self.digits = plan, plan.normalise(self.text)
        return self.digits


def rate_call(call: Call, data: ReferenceData, version: int = 1) -> Cdr | Rejection:
    try:
        return _rate(call, data, version)
    except Rejected as rejected:
        return Rejection(call.call_id, rejected.reason, str(rejected))


def _rate(call: Call, data: ReferenceData, version: int) -> Cdr:
    account = data.accounts.get(call.user_id)
    if account is None:
        raise Rejected(UNKNOWN_USER, f"user {call.user_id} is not known")
    if call.device_id:
        device = data.devices.get(call.device_id)
        if device is None:
            raise Rejected(UNKNOWN_DEVICE, f"device {call.device_id} is not known")
        if device.user_id != call.user_id:
            raise Rejected(UNKNOWN_DEVICE, f"device {call.device_id} belongs to user "
                                           f"{device.user_id}, not to user {call.user_id}")
    status = disposition(call)
    answered = status == ANSWERED
    billsec = call.billsec if answered else 0
    dialled = _Number(call.dst)
    user = _side(data, account.tariff_id, call, answered, billsec, dialled, "user",
                 account.user_id, rate_needed=not call.did)
    reseller = None
    owner = data.accounts.get(account.owner_id) if account.owner_id else None
    if owner is not None and owner.role == "reseller":
        reseller = _side(data, owner.tariff_id, call, answered, billsec, dialled, "reseller",
                         owner.user_id)
    provider = None
    if call.provider_id:
        known = data.providers.get(call.provider_id)
        if known is None:
            raise Rejected(UNKNOWN_PROVIDER, f"provider {call.provider_id} is not known")
        provider = _side(data, known.tariff_id, call, answered, billsec, dialled, "provider",
                         known.provider_id)
    show = _Converter(data, account.currency, call.start_ms)
    user_price = show(user.amount, user.tariff)
    provider_price = show(provider.amount, provider.tariff) if provider else ZERO
    did_inc, did_owner, did_provider = _did_prices(call, data, answered, billsec, show)
    with_tax = (user_price * account.tax_factor).quantize(MICRO, rounding=ROUND_HALF_UP)
    user_rate = user.rate
    destination = user_rate.destination if user_rate else None
    return Cdr(
        call_id=call.call_id, version=version, start_ms=call.start_ms,
        answer_ms=call.answer_ms, end_ms=call.end_ms, user_id=call.user_id,
        device_id=call.device_id, server_id=call.server_id, uniqueid=call.uniqueid,
        channel=call.channel, src=call.src, dst=call.dst, clid=call.clid,
        disposition=status, hangup_cause=call.hangup_cause, duration=call.duration,
        billsec=billsec, user_billsec=user.priced.billed if user.priced else 0,
        prefix=destination.prefix if destination else "",
        destination=destination.name if destination else "",
        tariff_id=user.tariff.tariff_id, tariff_version=user.tariff.version,
        currency=account.currency,
        user_rate=show.rate(user_rate, user.tariff),
        user_price=user_price,
        provider_id=call.provider_id, provider_name=call.provider_name,
        provider_rate=show.rate(provider.rate, provider.tariff) if provider else ZERO,
        provider_price=provider_price,
        reseller_id=owner.user_id if reseller and owner else 0,
        reseller_rate=show.rate(reseller.rate, reseller.tariff) if reseller else ZERO,
        reseller_price=show(reseller.amount, reseller.tariff) if reseller else ZERO,
        did=call.did, did_inc_price=did_inc, did_price=did_owner, did_prov_price=did_provider,
        profit=user_price + did_inc + did_owner - provider_price - did_provider,
        direction=destination.direction if destination else "",
        destination_group=destination.group if destination else "",
        tariff_currency=user.tariff.currency,
        exchange_rate=show.recorded_factor(user.tariff),
        tax_percent=account.tax_percent,
        user_price_with_tax=with_tax,
        rate_pieces=pieces_json(user.priced.pieces) if user.priced else "[]",
        closed_by=call.closed_by,
    )


def _side(data: ReferenceData, tariff_id: int, call: Call, answered: bool, billsec: int,
          number: _Number, role: str, who: int | str, rate_needed: bool = True) -> Side:
    """One price side: the call priced with one tariff against `number`; `role` and
    `who` name the side in a rejection."""
    tariff = data.tariffs.in_force(tariff_id, call.start_ms)
    if tariff is None:
        raise Rejected(NO_TARIFF, f"tariff {tariff_id} of {role} {who} is not in force "
                                  f"at {call.start_ms}")
    rates = tariff.match_digits(number.digits_for(tariff.numbers))
    if rates is None:
        if rate_needed and (answered or tariff.charge_unanswered):
            raise Rejected(NO_RATE, f"tariff {tariff_id} v{tariff.version} of {role} {who} "
                                    f"has no rate for {number.text}")
        return Side(tariff, None, None)
    begin_ms = call.answer_ms or call.end_ms - billsec * 1000
    try:
        priced = price_call(tariff, rates, rates[0].prefix, begin_ms, billsec, answered)
    except NoRateInForce as exc:
        raise Rejected(NO_RATE, f"tariff {tariff_id} v{tariff.version} of {role} {who}: "
                                f"{exc}") from None
    return Side(tariff, priced.rate, priced)


class _Converter:
    """Amounts of any tariff's currency in the user's currency, at the call's start."""

    __slots__ = ("at_ms", "currency", "data", "factors")

    def __init__(self, data: ReferenceData, currency: str, at_ms: int) -> None:
        self.data, self.currency, self.at_ms = data, currency, at_ms
        self.factors: dict[str, Decimal] = {}  # by tariff currency: asked up to 4 times a call

    def factor(self, tariff: Tariff) -> Decimal:
        factor = self.factors.get(tariff.currency)
        if factor is None:
            factor = self.data.exchange.factor(tariff.currency, self.currency, self.at_ms)
            if factor is None:
                raise Rejected(NO_EXCHANGE_RATE, f"no exchange rate from {tariff.currency} "
                                                 f"to {self.currency} at {self.at_ms}")
            self.factors[tariff.currency] = factor
        return factor

    def __call__(self, amount: Decimal, tariff: Tariff) -> Decimal:
        if tariff.currency == self.currency or not amount:
            return amount  # zero is zero in every currency: no exchange rate needed
        return (amount * self.factor(tariff)).quantize(MICRO, rounding=ROUND_HALF_UP)

    def rate(self, rate: Rate | None, tariff: Tariff) -> Decimal:
        """A rate's price per minute for display: 0 when no exchange rate is known (a
        call that cost something was rejected already, so only free calls get here)."""
        if rate is None:
            return ZERO
        if tariff.currency == self.currency:
            return rate.price_per_minute
        try:
            return self(rate.price_per_minute, tariff)
        except Rejected:
            return ZERO

    def recorded_factor(self, tariff: Tariff) -> Decimal:
        """The factor as the CDR records it: 0 when none is known and none was needed."""
        if tariff.currency == self.currency:
            return ONE_RECORDED
        try:
            factor = self.factor(tariff)
        except Rejected:
            return ZERO
        return factor.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _did_prices(call: Call, data: ReferenceData, answered: bool, billsec: int,
                show: _Converter) -> tuple[Decimal, Decimal, Decimal]:
    """(incoming, owner, provider) prices of a call through a DID, in the user's currency:
    each priced with the DID's tariff for it against the DID number."""
    if not call.did:
        return ZERO, ZERO, ZERO
    did = data.dids.get(call.did)
    if did is None:
        raise Rejected(UNKNOWN_DID, f"DID {call.did} is not known")
    number = _Number(did.did)
    prices = []
    for role, tariff_id in (("incoming", did.incoming_tariff_id),
                            ("owner", did.owner_tariff_id),
                            ("provider", did.provider_tariff_id)):
        if not tariff_id:
            prices.append(ZERO)
            continue
        side = _side(data, tariff_id, call, answered, billsec, number, "DID",
                     f"{did.did} ({role})")
        prices.append(show(side.amount, side.tariff))
    return prices[0], prices[1], prices[2]


def pieces_json(pieces: tuple[Piece, ...]) -> str:
    """The pieces as JSON, written as `orjson.dumps` of their dicts would write them
    (every field is a number, a decimal or a plain ASCII word, so nothing needs escaping;
    a test holds the two equal) in a fifth of the time."""
    return "[" + ",".join([
        f'{{"tier":{p.tier},"kind":"{p.kind}","start_ms":{p.start_ms},"seconds":{p.seconds},'
        f'"price":"{p.price}","window":"{p.window}","amount":"{p.amount}"}}'
        for p in pieces]) + "]"
