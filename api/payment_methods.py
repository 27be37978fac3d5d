"""user_balance_update, payments_get and payment_create: the money a user has
(docs/api.md; events in docs/payments.md).

Both writes append `payment_created` (account-events, keyed by the user), which the
balance (projections/balance.py) counts once per payment_id, also after a replay:
user_balance_update a `correction` of the delta, payment_create a payment that counts
once it is completed (at once, or on `cdrflow payment confirm` when
CDRFLOW_API_PAYMENT_CONFIRMATION is on).
"""

from __future__ import annotations

import hashlib
import logging
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from api.errors import ApiError, ErrorKind
from api.methods import MANAGERS, Envelope, MethodCall, MorMethod
from api.user_calls import user_zone
from api.xml import Node, moment_ms, money, render
from projections.balance import balance
from projections.payments import PaymentFilter, payment_list
from projections.queries import User, user_by_id
from streams.account_events import account_event, encoded, new_id
from streams.payment_events import (
    CORRECTION,
    CREATED,
    MAX_AMOUNT,
    MAX_TEXT,
    Payment,
    payment_created,
    with_vat,
)
from streams.topics import ACCOUNT_EVENTS

log = logging.getLogger(__name__)

MICRO = Decimal("0.000001")
_CURRENCY = re.compile(r"[A-Z]{3}")
_PAYMENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,29}")
SEARCH = ("s_user_id", "s_from", "s_till", "s_transaction", "s_completed", "s_username",
          "s_first_name", "s_last_name", "s_paymenttype", "s_amount_min", "s_amount_max",
          "s_currency")


def may_manage(caller: User, target: User) -> bool:
    """Whether `caller` may change `target`'s money: the admin everyone's, a reseller
    the users it owns (not its own: the admin manages a reseller's money)."""
    if caller.role == "admin":
        return True
    return (caller.role == "reseller" and target.owner_id == caller.user_id
            and target.user_id != caller.user_id)


async def managed_user(call: MethodCall, user_id: int, error: ErrorKind) -> User:
    """The user `user_id` if the caller may manage its money; else ApiError `error`,
    whether the user is unknown or only not the caller's."""
    target = await call.context.query(user_by_id, user_id)
    if target is None or not may_manage(call.caller, target):
        raise ApiError(error)
    return target


def scope(caller: User) -> tuple[int | None, int | None]:
    """(owner_id, user_id) limiting a list to what `caller` may see: nothing for the
    admin and accountants, a reseller's own users and itself, a user itself."""
    if caller.role in ("admin", "accountant"):
        return None, None
    if caller.role == "reseller":
        return caller.user_id, None
    return None, caller.user_id


def now_ms(call: MethodCall) -> int:
    return int(call.now().timestamp() * 1000)


def text_param(call: MethodCall, name: str, longest: int = MAX_TEXT) -> str:
    """A trimmed text of at most `longest` characters ("" when absent)."""
    value = call.text(name).strip()
    if len(value) > longest:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return value


async def append_payment(call: MethodCall, event: dict[str, object],
                         error: ErrorKind) -> Payment:
    """Check and append a payment_created; ApiError `error` when it is refused or the
    log cannot take it."""
    try:
        payment = payment_created(event)
    except ValueError:
        raise ApiError(error) from None
    try:
        await call.context.append(ACCOUNT_EVENTS, *encoded(payment.user_id, event))
    except Exception:
        log.exception("api: appending %s failed", CREATED)
        raise ApiError(error) from None
    return payment


# user_balance_update


async def user_balance_update(call: MethodCall) -> str:
    target = await managed_user(call, call.required_id("user_id", ErrorKind.USER_NOT_FOUND),
                                ErrorKind.USER_NOT_FOUND)
    delta = call.amount("balance")
    if delta is None:
        raise ApiError(ErrorKind.BALANCE_NOT_UPDATED)
    previous = await call.context.query(balance, target.user_id)
    moment_ms = now_ms(call)
    event = account_event(
        CREATED, payment_id=new_id(), user_id=target.user_id, amount=format(delta, "f"),
        currency=target.currency, vat_percent="0", payment_type=CORRECTION,
        paid_ms=moment_ms, confirmed_ms=moment_ms, completed=True)
    await append_payment(call, event, ErrorKind.BALANCE_NOT_UPDATED)
    return render(Node("page", [Node("page", [
        Node("status", "User balance updated"),
        Node("user", [Node("username", target.username), Node("id", str(target.user_id)),
                      Node("balance", money(previous + delta))]),
    ])]))


# payments_get


async def payments_get(call: MethodCall) -> str:
    owner_id, user_id = scope(call.caller)
    wanted = call.identifier("s_user_id")
    if wanted is not None:
        if wanted != call.caller.user_id:
            target = await call.context.query(user_by_id, wanted)
            if target is None or not _sees(call.caller, target):
                raise ApiError(ErrorKind.BAD_LOGIN)
        user_id = wanted
    start, end = call.seconds("s_from"), call.seconds("s_till")
    paid_from = paid_till = None
    if start is not None and end is not None:  # MOR ignores s_from without s_till
        paid_from, paid_till = start * 1000, end * 1000 + 999
    amount_min = _bound(call, "s_amount_min", ROUND_CEILING)
    amount_max = _bound(call, "s_amount_max", ROUND_FLOOR)
    where = PaymentFilter(
        owner_id=owner_id, user_id=user_id, paid_from_ms=paid_from, paid_till_ms=paid_till,
        transaction_id=_search(call, "s_transaction"),
        completed=call.flag("s_completed") if call.params.get("s_completed") else None,
        username=_search(call, "s_username"), first_name=_search(call, "s_first_name"),
        last_name=_search(call, "s_last_name"),
        payment_type=_lower(_search(call, "s_paymenttype")),
        amount_min=amount_min, amount_max=amount_max,
        currency=_upper(_search(call, "s_currency")))
    found = await call.context.query(payment_list, where)
    users = await call.context.blocking(call.context.read().users_by_ids,
                                        {p.user_id for p in found})
    return render(Node("page", [Node("payments", [
        _payment_node(payment, users.get(payment.user_id)) for payment in found])]))


def _sees(caller: User, target: User) -> bool:
    owner_id, user_id = scope(caller)
    if user_id is not None:
        return target.user_id == user_id
    return owner_id is None or owner_id in (target.user_id, target.owner_id)


def _bound(call: MethodCall, name: str, rounding: str) -> Decimal | None:
    """An amount bound as the payments column holds amounts (6 decimals, below 10^12)."""
    value = call.amount(name)
    if value is None:
        return None
    if abs(value) >= MAX_AMOUNT:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return value.quantize(MICRO, rounding)


def _search(call: MethodCall, name: str) -> str | None:
    value = call.text(name).strip()
    if len(value) > MAX_TEXT:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return value or None


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def _upper(value: str | None) -> str | None:
    return value.upper() if value is not None else None


def _payment_node(payment: Payment, user: User | None) -> Node:
    zone = user_zone(user.timezone if user else "")
    confirmed = payment.confirmed_ms > 0
    return Node("payment", [
        Node("user", user.nice_name if user else ""),
        Node("payer", payment.payer),
        Node("transaction_id", payment.transaction_id),
        Node("date", moment_ms(payment.paid_ms, zone)),
        Node("confirm_date", moment_ms(payment.confirmed_ms, zone) if confirmed else ""),
        Node("type", payment.payment_type),
        Node("amount", money(payment.amount)),
        Node("fee", money(Decimal(0))),
        Node("amount_with_tax", money(with_vat(payment.amount, payment.vat_percent))),
        Node("currency", payment.currency),
        Node("completed", "1" if payment.completed else "0"),
        Node("confirmed_by_admin", "1" if confirmed else "0"),
    ])


# payment_create


def payment_id(user_id: int, transaction: str) -> int:
    """The id of an API payment: from the user and the gateway's transaction id when one
    is given (a retried call replaces the payment instead of adding a second), else new."""
    if not transaction:
        return new_id()
    digest = hashlib.sha1(f"{user_id}:{transaction}".encode()).hexdigest()
    return int(digest[:13], 16) or 1


def split_tax(amount: Decimal, vat_percent: Decimal,
              tax_in_amount: bool) -> tuple[Decimal, Decimal, Decimal]:
    """(amount without tax, tax, gross). With tax in the amount, the amount without tax
    is rounded half-up to 6 decimals and the tax is the rest."""
    if tax_in_amount:
        net = (amount * 100 / (100 + vat_percent)).quantize(MICRO, ROUND_HALF_UP)
        return net, amount - net, amount
    gross = with_vat(amount, vat_percent)
    return amount, gross - amount, gross


async def payment_create(call: MethodCall) -> str:
    settings = call.context.settings
    if not settings.api_payments:
        raise ApiError(ErrorKind.FEATURE_DISABLED)
    target = await managed_user(call, call.required_id("user_id", ErrorKind.BAD_LOGIN),
                                ErrorKind.BAD_LOGIN)
    currency = call.text("p_currency").strip().upper()
    if not _CURRENCY.fullmatch(currency) or currency != target.currency:
        raise ApiError(ErrorKind.NO_CURRENCY)
    amount = call.amount("amount")
    if amount is None:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "amount")
    payment_type = call.text("paymenttype", "manual").strip().lower()
    if not _PAYMENT_TYPE.fullmatch(payment_type):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "paymenttype")
    tax_in_amount = call.flag("tax_in_amount")
    transaction = text_param(call, "transaction")
    payer = text_param(call, "payer_email")
    comment = text_param(call, "comments_for_user")
    if amount <= 0:
        raise ApiError(ErrorKind.PAYMENT_NOT_SAVED)
    net, tax, gross = split_tax(amount, target.tax_percent, tax_in_amount)
    confirmed = not settings.api_payment_confirmation
    moment_ms = now_ms(call)
    event = account_event(
        CREATED, payment_id=payment_id(target.user_id, transaction), user_id=target.user_id,
        amount=format(net, "f"), currency=currency,
        vat_percent=format(target.tax_percent, "f"), payment_type=payment_type,
        paid_ms=moment_ms, confirmed_ms=moment_ms if confirmed else 0, completed=confirmed,
        transaction_id=transaction, payer=payer, comment=comment)
    payment = await append_payment(call, event, ErrorKind.PAYMENT_NOT_SAVED)
    return render(Node("response", [
        Node("status", "ok"),
        Node("confirmed", "1" if confirmed else "0"),
        Node("payment", [Node("payment_id", str(payment.payment_id)),
                         Node("tax", money(tax)), Node("amount", money(net)),
                         Node("gross", money(gross))], (("currency", currency),)),
    ]))


METHODS: list[MorMethod] = [
    MorMethod("user_balance_update", user_balance_update, hashed=("user_id", "balance"),
              aliases=("user_balance_change",), roles=MANAGERS, refused=ErrorKind.BAD_LOGIN,
              write=True, envelope=Envelope.PAGE),
    MorMethod("payments_get", payments_get, hashed=SEARCH, aliases=("payments_list",),
              envelope=Envelope.PAGE),
    MorMethod("payment_create", payment_create, hashed=("user_id",),
              aliases=("create_payment",), roles=MANAGERS, refused=ErrorKind.BAD_LOGIN,
              write=True, envelope=Envelope.PAGE),
]
