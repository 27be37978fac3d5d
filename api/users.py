"""The account methods: user_details_get (alias user_details), user_details_update (alias
user_update_api) and users_get (docs/api.md, "Account methods").

Reads come from the users, personal_details and balance projections; an update appends
`user_updated` (the whole account, as rating reads it) and/or `personal_details_updated`
(the whole set of personal details) to account-events, never ClickHouse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
from clickhouse_driver import Client

from api.access import can_see, page_owner
from api.balance import four
from api.errors import ApiError, ErrorKind
from api.hash import mor_hash
from api.methods import Envelope, MethodCall, MorMethod
from api.params import Params
from api.xml import Node, money, render
from cdrflow.passwords import hash_password
from projections import tariff_rates
from projections.accounts import account_by_id, accounts, user_version
from projections.balance import balance, balances
from projections.personal_details import details_version, personal_details
from projections.queries import User
from rating.reference import Account, parse_account_event
from streams.account_events import account_event, encoded
from streams.personal_details_events import UPDATED as DETAILS_UPDATED
from streams.personal_details_events import check
from streams.topics import ACCOUNT_EVENTS

DETAILS_HASHED = ("user_id", "username")
CODED = tuple(f"u{number}" for number in range(34))
# MOR's other hashed fields of user_details_update, in its documented order
MOR_FIELDS = (
    "ay", "am", "ad", "by", "bm", "bd", "pswd", "user_warning_email_hour", "pgui", "pcsv",
    "ppdf", "recording_forced_enabled", "i4", "tax4_enabled", "tax2_enabled",
    "accountant_type_invalid", "block_at_conditional", "tax3_enabled", "accountant_type",
    "tax1_value", "show_zero_calls", "warning_email_active", "compound_tax", "tax4_name",
    "allow_loss_calls", "tax3_name", "tax2_name", "credit", "tax1_name", "total_tax_name",
    "tax2_value", "tax4_value", "ignore_global_monitorings", "i1", "tax3_value",
    "cyberplat_active", "i2",
)
# cdrflow's own parameters: the registration details, named as user_details_get shows them
REGISTRATION = ("reg_address", "reg_postcode", "reg_city", "reg_country", "reg_state",
                "reg_direction", "reg_phone", "reg_mobile", "reg_fax", "reg_email")
UPDATE_HASHED = ("user_id", *CODED, *MOR_FIELDS, *REGISTRATION)

# coded field -> the personal detail it sets
PERSONAL = {"u0": "vat_reg_number", "u14": "taxation_country", "u19": "personal_id",
            "u27": "agreement_number", **{name: name for name in REGISTRATION}}
# coded field -> the account field it sets (text)
NAMES = {"u17": "last_name", "u23": "first_name"}
MODELLED = frozenset({*PERSONAL, *NAMES, "u4", "u5", "u8", "u9", "u13", "u25", "ay", "am",
                      "ad", "pswd", "credit", "tax1_value"})
SETTABLE_ROLES = ("user", "reseller", "accountant")
UPDATED = "User was updated"
_CURRENCY = re.compile(r"[A-Z]{3}")
_LANGUAGE = re.compile(r"[A-Za-z_-]{1,16}")
_MAX_TEXT = 255
MICRO = Decimal("0.000001")  # users.credit_limit is Decimal(18, 6)
TAX_PLACES = Decimal("0.0001")  # users.tax_percent is Decimal(9, 4)


# -- user_details_get ---------------------------------------------------------------------


async def user_details_get(call: MethodCall) -> str:
    user = await _shown_user(call)
    details = (await call.context.query(personal_details, user.user_id)).values()
    current = await call.context.query(balance, user.user_id)

    def texts(names: Sequence[str]) -> list[Node]:
        return [Node("personalid" if name == "personal_id" else name, details[name])
                for name in names]

    main = [
        Node("account", user.account_type.capitalize()),
        Node("balance", f"{four(current)} {user.currency}"),
        Node("balance_number", four(current)),
        Node("balance_currency", user.currency),
        Node("credit", credit(user.credit_limit)),
    ]
    other = [
        Node("username", user.username),
        Node("first_name", user.first_name),
        Node("surname", user.last_name),
        *texts(("personal_id", "agreement_number", "agreement_date", "taxation_country",
                "vat_reg_number")),
        Node("vat_percent", money(user.tax_percent)),
    ]
    return render(Node("page", [
        Node("pagename", "Personal_details"),
        Node("language", user.language or "en"),
        Node("userid", user.user_id),
        Node("details", [Node("main_detail", main), Node("other_details", other),
                         Node("registration", texts(REGISTRATION))]),
    ]))


async def _shown_user(call: MethodCall) -> User:
    """The user named by `user_id` and/or `username` (both: the same user), visible to
    the caller; otherwise `User was not found`."""
    user_id = call.identifier("user_id", ErrorKind.USER_NOT_FOUND)
    username = call.text("username")
    if user_id is None and not username:
        raise ApiError(ErrorKind.USER_NOT_FOUND)
    found: User | None
    if user_id is not None:
        found = await page_owner(call.context, call.caller, user_id)
    else:
        found = await call.context.blocking(call.context.read().user_by_username, username)
    if found is None or (username and found.username != username) \
            or not can_see(call.caller, found):
        raise ApiError(ErrorKind.USER_NOT_FOUND)
    return found


def credit(limit: Decimal) -> str:
    """`Unlimited` for no limit (-1), else the amount with 4 decimals."""
    return "Unlimited" if limit < 0 else four(limit)


# -- user_details_update ------------------------------------------------------------------


async def user_details_update(call: MethodCall) -> str:
    user_id = call.required_id("user_id", ErrorKind.USER_NOT_FOUND)
    target = await page_owner(call.context, call.caller, user_id)
    if (call.caller.role == "reseller" and target.user_id == call.caller.user_id) or \
            (call.caller.role == "accountant" and target.role == "admin"):
        raise ApiError(ErrorKind.NO_EDIT_PERMISSION)
    account = await call.context.query(account_by_id, target.user_id)
    if account is None:  # pragma: no cover - the users table gave the user a moment ago
        raise ApiError(ErrorKind.USER_NOT_FOUND)
    changes, personal = await _changes(call, account)
    # (event, the projection's version reader) for each event to append
    events: list[tuple[dict[str, Any], Callable[[Client, int], int]]] = []
    if changes:
        events.append((_user_updated(account, changes), user_version))
    if personal:
        current = (await call.context.query(personal_details, account.user_id)).values()
        merged = {**current, **personal}
        if check(merged) is not None:
            raise ApiError(ErrorKind.USER_NOT_UPDATED)
        events.append((account_event(DETAILS_UPDATED, user_id=account.user_id, **merged),
                       details_version))
    # Each event carries the whole account (details): the next update must be built on
    # this one, so the answer waits until the projections show it (read your writes).
    for event, version in events:
        offset = await call.context.append(ACCOUNT_EVENTS, *encoded(account.user_id, event))
        await call.context.projected(version, account.user_id, offset)
    return render(Node("page", [Node("status", UPDATED)]))


async def _changes(call: MethodCall,
                   account: Account) -> tuple[dict[str, Any], dict[str, str]]:
    """(account fields, personal details) the request sets, checked in hash order; the
    first bad parameter is refused and nothing is changed."""
    params = call.params
    changes: dict[str, Any] = {}
    personal: dict[str, str] = {}
    for name in UPDATE_HASHED[1:]:
        value = params.values.get(name)
        if value is None or (not value and name not in PERSONAL and name not in NAMES):
            continue  # empty: not given, except that a text detail is emptied
        if name not in MODELLED:
            if not _neutral(value):
                raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        elif name in PERSONAL:
            personal[PERSONAL[name]] = _text(name, value.strip())
        elif name in NAMES:
            changes[NAMES[name]] = _text(name, value.strip())
        else:
            await _account_field(call, account, name, value.strip(), changes)
    if any(params.get(name) is not None for name in ("ay", "am", "ad")):
        personal["agreement_date"] = _agreement_date(params)
    return changes, personal


async def _account_field(call: MethodCall, account: Account, name: str, value: str,
                         changes: dict[str, Any]) -> None:
    context = call.context
    if name == "u4":
        currency = value.upper()
        now_ms = int(call.now().timestamp() * 1000)
        if currency != account.currency and (
                not _CURRENCY.fullmatch(currency)
                or currency not in await context.query(tariff_rates.exchange_rates, now_ms)):
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        changes["currency"] = currency
    elif name == "u5":
        tariff_id = call.required_id(name)
        now_ms = int(call.now().timestamp() * 1000)
        if await context.query(tariff_rates.tariff_in_force, tariff_id, now_ms) is None:
            raise ApiError(ErrorKind.TARIFF_NOT_FOUND)
        changes["tariff_id"] = tariff_id
    elif name == "u8":
        if not _LANGUAGE.fullmatch(value):
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        changes["language"] = value
    elif name == "u9":
        if not value or len(value) > _MAX_TEXT:
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        holder = await context.blocking(context.read().user_by_username, value)
        if holder is not None and holder.user_id != account.user_id:
            raise ApiError(ErrorKind.USERNAME_TAKEN)
        changes["username"] = value
    elif name == "u13":
        if value not in SETTABLE_ROLES and value != account.role:
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        if value != account.role and (call.caller.role != "admin" or account.role == "admin"):
            raise ApiError(ErrorKind.NO_EDIT_PERMISSION)
        changes["role"] = value
    elif name == "u25":
        changes["account_type"] = "postpaid" if call.flag(name) else "prepaid"
    elif name == "pswd":
        if not value:
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        changes["password_hash"] = hash_password(value)
    elif name == "credit":
        limit = call.amount(name)
        if limit is None or (limit < 0 and limit != -1) or limit != limit.quantize(MICRO):
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        changes["credit_limit"] = str(limit)
    elif name == "tax1_value":
        tax = call.amount(name)
        if tax is None or not 0 <= tax <= 100 or tax != tax.quantize(TAX_PLACES):
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        changes["tax_percent"] = str(tax)


def _text(name: str, value: str) -> str:
    if len(value) > _MAX_TEXT:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return value


def _neutral(value: str) -> bool:
    """A value of a field cdrflow does not model that asks for what cdrflow does anyway:
    empty, or a number equal to zero (off, none, not blocked, not hidden, no limit)."""
    text = value.strip()
    if not text:
        return True
    try:
        return Decimal(text) == 0
    except ArithmeticError:
        return False


def _agreement_date(params: Params) -> str:
    """ay, am, ad: the agreement date (all three, a real date)."""
    parts = []
    for name in ("ay", "am", "ad"):
        value = (params.get(name) or "").strip()
        if not value.isascii() or not value.isdigit() or len(value) > 4:
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        parts.append(int(value))
    try:
        return date(*parts).isoformat()
    except ValueError:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "ay") from None


def _user_updated(account: Account, changes: dict[str, Any]) -> dict[str, Any]:
    """user_updated: the whole account as it is, with the changes (rating reads it)."""
    fields: dict[str, Any] = {
        "user_id": account.user_id, "username": account.username,
        "first_name": account.first_name, "last_name": account.last_name,
        "role": account.role, "owner_id": account.owner_id, "currency": account.currency,
        "tariff_id": account.tariff_id, "timezone": account.timezone,
        "tax_percent": str(account.tax_percent), "account_type": account.account_type,
        "credit_limit": str(account.credit_limit), "language": account.language,
        "api_group": account.api_group, "password_hash": account.password_hash,
        **changes,
    }
    event = account_event("user_updated", **fields)
    try:
        parse_account_event(orjson.loads(orjson.dumps(event)))
    except ValueError:
        raise ApiError(ErrorKind.USER_NOT_UPDATED) from None
    return event


# -- users_get ----------------------------------------------------------------------------


async def users_get(call: MethodCall) -> str:
    owner = call.caller.user_id if call.caller.role == "reseller" else None
    found = await call.context.query(accounts, owner)
    amounts = await call.context.query(balances, [account.user_id for account in found])
    users = [Node("user", [
        Node("id", account.user_id),
        Node("username", account.username),
        Node("first_name", account.first_name),
        Node("last_name", account.last_name),
        Node("balance", four(amounts.get(account.user_id, Decimal(0)))),
        Node("blocked", 0),
        Node("lcr_id", ""),
        Node("tariff_id", account.tariff_id),
        Node("owner_id", account.owner_id),
        Node("usertype", account.role),
        Node("hidden", 0),
    ]) for account in found]
    return render(Node("page", [Node("status", [Node("users", users)])]))


def users_get_hashes(params: Params, caller: User, secret: str) -> Sequence[str]:
    """Besides SHA1(secret): the hashes a client that hashes `u` (and `p`) sends
    (the PHP client does)."""
    username = params.get("u") or ""
    if not username:
        return ()
    return (mor_hash([username], secret), mor_hash([username, params.get("p") or ""], secret))


MANAGERS = frozenset({"admin", "reseller", "accountant"})  # MOR: who may update users

METHODS: list[MorMethod] = [
    MorMethod("user_details_get", user_details_get, hashed=DETAILS_HASHED,
              aliases=("user_details",), envelope=Envelope.PAGE),
    MorMethod("user_details_update", user_details_update, hashed=UPDATE_HASHED,
              aliases=("user_update_api",), roles=MANAGERS, write=True,
              envelope=Envelope.PAGE),
    MorMethod("users_get", users_get, roles=MANAGERS, refused=ErrorKind.ACCESS_DENIED,
              envelope=Envelope.PAGE_STATUS, extra_hashes=users_get_hashes),
]
