"""user_balance_get (alias balance) and the balance by device credentials
(user_balance_get_by_username/<device login>, user_balance_get_by_psw/<device password>).

All need MOR's "balance over HTTP" (`settings.api_balance`), else `Feature disabled`. The
balance is projections.balance's (completed payments in the user's currency minus the
user's call charges), converted with the exchange rates in force now
(projections.tariff_rates.exchange_rates) and shown with 4 decimals (docs/api.md,
"user_balance_get").
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from api.access import api_gate, can_see
from api.errors import ApiError, ErrorKind
from api.methods import Envelope, MethodCall, MorMethod
from api.rates import factor
from api.xml import Node, render
from projections import tariff_rates
from projections.accounts import device_user_id
from projections.balance import balance
from projections.queries import User, user_by_id

HASHED = ("username", "currency")
FOUR = Decimal("0.0001")
USER_CURRENCY = "USER"  # MOR's `currency=USER`: the user's own currency


def four(value: Decimal) -> str:
    """An amount with 4 decimals, half up, as MOR shows balances: 12.5 -> "12.5000";
    never "-0.0000"."""
    shown = value.quantize(FOUR, ROUND_HALF_UP)
    return f"{abs(shown) if shown.is_zero() else shown:f}"


async def shown_balance(call: MethodCall, user: User, currency: str) -> Decimal:
    """The user's balance in `currency` (the user's own needs no exchange rate); a
    currency no rate links to the user's: `Invalid parameter: currency`."""
    amount = await call.context.query(balance, user.user_id)
    if currency == user.currency:
        return amount
    now_ms = int(call.now().timestamp() * 1000)
    rates = await call.context.query(tariff_rates.exchange_rates, now_ms)
    multiply = factor(rates, user.currency, currency)
    if multiply is None:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "currency")
    return amount * multiply


async def wanted_currency(call: MethodCall, user: User) -> str:
    """`currency`: `USER` (any case) the user's, a currency with an exchange rate that
    one; absent or unknown: the system currency (MOR's rule)."""
    asked = call.text("currency").strip().upper()
    if asked == USER_CURRENCY or asked == user.currency:
        return user.currency
    if asked:
        now_ms = int(call.now().timestamp() * 1000)
        rates = await call.context.query(tariff_rates.exchange_rates, now_ms)
        if asked in rates:
            return asked
    return tariff_rates.SYSTEM_CURRENCY


def _feature(call: MethodCall) -> None:
    if not call.context.settings.api_balance:
        raise ApiError(ErrorKind.FEATURE_DISABLED)


async def user_balance_get(call: MethodCall) -> str:
    _feature(call)
    username = call.text("username")
    user = await call.context.blocking(call.context.read().user_by_username, username) \
        if username else None
    if user is None or not can_see(call.caller, user):
        raise ApiError(ErrorKind.USER_NOT_FOUND)
    with_currency = call.flag("user_currency")
    currency = user.currency if with_currency else await wanted_currency(call, user)
    amount = await shown_balance(call, user, currency)
    shown = [Node("balance", four(amount))]
    if with_currency:
        shown.append(Node("currency", currency))
    return render(Node("page", shown))


async def user_balance_by_username(call: MethodCall) -> str:
    """The balance of the user owning the device whose login is the path's last part."""
    _device_gate(call)
    user_id = await call.context.query(device_user_id, call.request.path_params["username"])
    user = await call.context.query(user_by_id, user_id) if user_id is not None else None
    if user is None:
        raise ApiError(ErrorKind.USER_NOT_FOUND)
    amount = await shown_balance(call, user, await wanted_currency(call, user))
    return render(Node("page", [Node("balance", four(amount))]))


async def user_balance_by_password(call: MethodCall) -> str:
    """cdrflow never holds a device's SIP/IAX2 secret (docs/devices.md), so no password
    names a device: every call that passes the gates is `User was not found`."""
    _device_gate(call)
    raise ApiError(ErrorKind.USER_NOT_FOUND)


def _device_gate(call: MethodCall) -> None:
    """No caller and no hash: "Allow API globally", the IP allow-list, then the feature."""
    request = call.request
    api_gate(call.context, request.client.host if request.client else None)
    _feature(call)


METHODS: list[MorMethod] = [
    MorMethod("user_balance_get", user_balance_get, hashed=HASHED, aliases=("balance",),
              envelope=Envelope.PAGE),
    MorMethod("user_balance_get_by_username", user_balance_by_username, authenticated=False,
              path_suffix="/{username}", envelope=Envelope.PAGE),
    MorMethod("user_balance_get_by_psw", user_balance_by_password, authenticated=False,
              path_suffix="/{password}", envelope=Envelope.PAGE),
]
