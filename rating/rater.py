"""Rating: a finished call plus the reference data in force becomes a CDR or a rejection."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rating.call import Call
from rating.cdr import Cdr
from rating.disposition import ANSWERED, disposition
from rating.price import price
from rating.reference import Account
from rating.tariff import TariffBook

UNKNOWN_USER = "unknown_user"
NO_TARIFF = "no_tariff"
NO_RATE = "no_rate"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A call that cannot be priced; operators list these and re-rate them later."""

    call_id: str
    reason: str
    detail: str


def rate_call(call: Call, account: Account | None, book: TariffBook,
              version: int = 1) -> Cdr | Rejection:
    if account is None:
        return Rejection(call.call_id, UNKNOWN_USER, f"user {call.user_id} is not known")
    tariff = book.in_force(account.tariff_id, call.start_ms)
    if tariff is None:
        return Rejection(call.call_id, NO_TARIFF,
                         f"tariff {account.tariff_id} of user {call.user_id} "
                         f"is not in force at {call.start_ms}")
    status = disposition(call)
    rate = tariff.match(call.dst)
    if rate is None and status == ANSWERED:
        return Rejection(call.call_id, NO_RATE,
                         f"tariff {tariff.tariff_id} v{tariff.version} has no rate for {call.dst}")
    billsec = call.billsec if status == ANSWERED else 0
    if rate is None:
        user_billsec, user_price = 0, Decimal(0).quantize(Decimal(1).scaleb(-tariff.decimals))
    else:
        user_billsec, user_price = price(billsec, rate, tariff.decimals)
    return Cdr(
        call_id=call.call_id,
        version=version,
        start_ms=call.start_ms,
        answer_ms=call.answer_ms,
        end_ms=call.end_ms,
        user_id=call.user_id,
        device_id=call.device_id,
        server_id=call.server_id,
        uniqueid=call.uniqueid,
        channel=call.channel,
        src=call.src,
        dst=call.dst,
        clid=call.clid,
        disposition=status,
        hangup_cause=call.hangup_cause,
        duration=call.duration,
        billsec=billsec,
        user_billsec=user_billsec,
        prefix=rate.prefix if rate else "",
        destination=rate.destination if rate else "",
        tariff_id=tariff.tariff_id,
        tariff_version=tariff.version,
        currency=tariff.currency,
        user_rate=rate.price_per_minute if rate else Decimal(0),
        user_price=user_price,
        provider_id=call.provider_id,
        provider_name=call.provider_name,
        profit=user_price,
    )
