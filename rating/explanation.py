"""Why a call cost what it cost: a rated CDR (or a rejection) explained for people.

Operators ask this first. The explanation names the tariff version, the matched prefix
and the other prefixes it beat, the rate's windows and tiers, every priced piece, the
rounding, the currency conversion, tax, and the other price sides.
"""

from __future__ import annotations

from decimal import Decimal

import orjson

from rating.calendar import Calendar, clock
from rating.cdr import Cdr
from rating.disposition import dispod
from rating.rater import Rejection
from rating.reference import ReferenceData
from rating.tariff import EVENT, Rate, Tariff, Tier


def explain(result: Cdr | Rejection, data: ReferenceData, user_id: int, dst: str,
            start_ms: int) -> str:
    if isinstance(result, Rejection):
        return "\n".join([
            f"call {result.call_id} to {dst} by user {user_id} cannot be rated",
            f"reason       {result.reason}",
            f"detail       {result.detail}",
        ]) + "\n"
    cdr = result
    account = data.accounts[cdr.user_id]
    lines = [
        f"call {cdr.call_id} to {cdr.dst} by user {cdr.user_id} ({account.username}), "
        f"billsec {cdr.billsec}",
        f"disposition  {dispod(cdr.disposition, cdr.hangup_cause)}",
    ]
    tariff = data.tariffs.in_force(cdr.tariff_id, start_ms)
    if tariff is None:  # cannot happen for a CDR rated with this data
        return "\n".join([*lines, f"tariff       {cdr.tariff_id} is no longer known"]) + "\n"
    when = tariff.calendar
    lines.append(f"started      {_when(when, cdr.start_ms)}"
                 f"{', answered ' + _when(when, cdr.answer_ms) if cdr.answer_ms else ''}")
    lines.append(f"tariff       {tariff.tariff_id} {tariff.name!r} version {tariff.version} "
                 f"({tariff.currency}; in force from {_when(when, tariff.effective_from_ms)}"
                 f"{_until(tariff)})")
    if not cdr.prefix:
        lines.append(f"prefix       none of the tariff's prefixes matches {dst} "
                     "(free: the call was not answered)")
        return "\n".join(lines) + "\n"
    rates = tariff.rates[cdr.prefix]
    beaten = [p for p in _candidates(tariff, dst) if p != cdr.prefix]
    lines.append(f"prefix       {cdr.prefix} {rates[0].destination.name}"
                 f"{_about(rates[0])} (longest match"
                 f"{'; also matched ' + ', '.join(beaten) if beaten else ''})")
    for rate in rates:
        lines.append(f"rate         {_window(rate)}: {_tiers(rate.tiers)}"
                     f"{f'; grace {rate.grace_time} s' if rate.grace_time else ''}")
    pieces = orjson.loads(cdr.rate_pieces)
    if pieces:
        lines.append("pieces")
        for number, piece in enumerate(pieces, 1):
            seconds = f" +{piece['seconds']} s" if piece["kind"] == "minute" else ""
            lines.append(
                f"  {number}. {when.local(piece['start_ms']):%Y-%m-%d %H:%M:%S}{seconds} "
                f"at {_price(piece)} ({piece['window']}, tier {piece['tier']}) "
                f"= {piece['amount']}")
        exact = sum((Decimal(p["amount"]) for p in pieces), Decimal(0))
        lines.append(f"exact        {exact} {tariff.currency}")
        lines.append(f"rounded      {tariff.quantize(exact)} {tariff.currency} "
                     f"({tariff.rounding}, {tariff.decimals} decimals); "
                     f"billed {cdr.user_billsec} s")
    else:
        lines.append("pieces       none: nothing to charge (not answered, or within the "
                     "grace time)")
    if cdr.tariff_currency != cdr.currency:
        lines.append(f"currency     {cdr.tariff_currency} -> {cdr.currency} "
                     f"x {cdr.exchange_rate.normalize()}")
    lines.append(f"user price   {cdr.user_price} {cdr.currency}; with {cdr.tax_percent}% tax "
                 f"{cdr.user_price_with_tax}")
    if cdr.reseller_id:
        lines.append(f"reseller     {cdr.reseller_id}: {cdr.reseller_price} "
                     f"at {cdr.reseller_rate}/min")
    if cdr.provider_id:
        known = data.providers.get(cdr.provider_id)
        name = cdr.provider_name or (known.name if known else "")
        lines.append(f"provider     {cdr.provider_id} {name}: "
                     f"{cdr.provider_price} at {cdr.provider_rate}/min")
    if cdr.did:
        lines.append(f"DID          {cdr.did}: incoming {cdr.did_inc_price}, owner "
                     f"{cdr.did_price}, provider {cdr.did_prov_price}")
    lines.append(f"profit       {cdr.profit} {cdr.currency}")
    return "\n".join(lines) + "\n"


def _candidates(tariff: Tariff, dst: str) -> list[str]:
    digits = tariff.numbers.normalise(dst)
    return [digits[:n] for n in range(len(digits), 0, -1) if digits[:n] in tariff.rates]


def _about(rate: Rate) -> str:
    parts = [p for p in (rate.destination.direction, rate.destination.kind,
                         rate.destination.group and f"group {rate.destination.group}") if p]
    return f" ({', '.join(parts)})" if parts else ""


def _window(rate: Rate) -> str:
    days = {"all": "every day", "work": "work days", "free": "free days"}[rate.days]
    return f"{days} {clock(rate.start_second)}-{clock(rate.end_second)}"


def _tiers(tiers: tuple[Tier, ...]) -> str:
    return "; ".join(
        f"{t.price} once past {t.start} s" if t.kind == EVENT else
        f"{t.start}-{t.end if t.end is not None else '∞'} s at {t.price}/min by {t.increment} s"
        for t in tiers)


def _price(piece: dict[str, object]) -> str:
    return f"{piece['price']}" + ("/min" if piece["kind"] == "minute" else " once")



def _when(calendar: Calendar, epoch_ms: int) -> str:
    return f"{calendar.local(epoch_ms):%Y-%m-%d %H:%M:%S %Z}"


def _until(tariff: Tariff) -> str:
    until = tariff.effective_until_ms
    return f" until {_when(tariff.calendar, until)}" if until is not None else ""
