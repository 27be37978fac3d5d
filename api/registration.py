"""user_register (alias registration): MOR's self sign-up over the API.

The registrant is nobody yet: no `u`, no hash. "Allow API globally" and the IP
allow-list apply, then `CDRFLOW_API_REGISTRATION` ("API allow Registration") and the
`id` the request presents, which must be `CDRFLOW_API_UNIQUEHASH` (MOR's "Uniquehash").
A registration appends `user_created` (a user of the admin, with the admin's currency
and tariff), `personal_details_updated` (e-mail and contact fields) and `device_created`
to account-events, keyed by the new user's id, and answers once the users projection
shows the user, so that the registrant can log in at once (docs/api.md, "user_register").
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from api.access import api_gate
from api.device_methods import DEVICE_TYPES, PIN_ATTEMPTS, PIN_DIGITS
from api.errors import ApiError, ErrorKind
from api.methods import Envelope, MethodCall, MorMethod
from api.xml import Node, render
from cdrflow.passwords import hash_password
from projections.accounts import account_by_id, user_version
from projections.devices import pin_in_use
from streams.account_events import account_event, encoded, new_id
from streams.callflow_events import valid_custom_callerid
from streams.personal_details_events import FIELDS, MAX_LENGTH
from streams.personal_details_events import UPDATED as DETAILS_UPDATED
from streams.topics import ACCOUNT_EVENTS

SUCCESS = "Registration successful"
ADMIN_ID = 0  # the owner of every registrant: the admin, whose uniquehash `id` is
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
# MOR's contact parameters -> the personal detail each sets (`county`: none, not kept)
CONTACTS = {"address": "reg_address", "postcode": "reg_postcode", "city": "reg_city",
            "state": "reg_state", "phone": "reg_phone", "mob_phone": "reg_mobile",
            "fax": "reg_fax", "client_id": "personal_id", "vat_number": "vat_reg_number"}
IGNORED = ("county",)


async def user_register(call: MethodCall) -> str:
    context, request = call.context, call.request
    api_gate(context, request.client.host if request.client else None)
    settings = context.settings
    if not settings.api_registration:
        raise ApiError(ErrorKind.REGISTRATION_DISABLED)
    if not _uniquehash_matches(call.text("id"), settings.api_uniquehash):
        raise ApiError(ErrorKind.DONT_BE_SO_SMART)
    username = await _username(call)
    password = call.text("password")
    if not password:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "password")
    if not hmac.compare_digest(password.encode(), call.text("password2").encode()):
        raise ApiError(ErrorKind.PASSWORDS_DIFFER)
    first_name, last_name = _required(call, "first_name"), _required(call, "last_name")
    details = _details(call)
    kind = DEVICE_TYPES.get(call.text("device_type").strip().lower())
    if kind is None:
        raise ApiError(ErrorKind.DEVICE_TYPE_INVALID)
    callerid = call.text("caller_id")
    if callerid and not valid_custom_callerid(callerid):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "caller_id")
    for name in IGNORED:
        _text(call, name)
    admin = await context.query(account_by_id, ADMIN_ID)
    if admin is None:  # no admin projected yet: nobody to own the registrant
        raise ApiError(ErrorKind.USER_NOT_FOUND)
    pin = await _free_pin(call)
    user_id, device_id = new_id(), new_id()
    password_hash = await context.blocking(hash_password, password)
    user = account_event(
        "user_created", user_id=user_id, username=username, first_name=first_name,
        last_name=last_name, role="user", owner_id=ADMIN_ID, currency=admin.currency,
        tariff_id=admin.tariff_id, timezone="UTC", tax_percent="0", account_type="prepaid",
        credit_limit="0", language="en", api_group="", password_hash=password_hash)
    device = account_event(
        "device_created", device_id=device_id, user_id=user_id, device_type=kind,
        name=str(device_id), extension=str(device_id), description="",
        username=str(device_id), callerid=callerid, pin=pin)
    offset = await context.append(ACCOUNT_EVENTS, *encoded(user_id, user))
    await context.append(ACCOUNT_EVENTS, *encoded(
        user_id, account_event(DETAILS_UPDATED, user_id=user_id, **details)))
    await context.append(ACCOUNT_EVENTS, *encoded(user_id, device))
    await context.projected(user_version, user_id, offset)  # the registrant may log in now
    return render(Node("page", [
        Node("status", SUCCESS),
        Node("user_device_settings", [
            Node("device_type", kind), Node("username", device_id), Node("password", ""),
            Node("pin", pin), Node("server_ip", "")]),
    ]))


def _uniquehash_matches(sent: str, configured: str) -> bool:
    """`id` is the configured uniquehash (constant time); an empty one matches nothing."""
    return bool(configured) and hmac.compare_digest(sent.encode(), configured.encode())


async def _username(call: MethodCall) -> str:
    """1 to 255 characters (surrounding spaces dropped, as user_details_update's `u9`),
    no other user's."""
    username = _required(call, "username")
    holder = await call.context.blocking(call.context.read().user_by_username, username)
    if holder is not None:
        raise ApiError(ErrorKind.USERNAME_TAKEN)
    return username


def _text(call: MethodCall, name: str) -> str:
    value = call.text(name).strip()
    if len(value) > MAX_LENGTH:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return value


def _required(call: MethodCall, name: str) -> str:
    value = _text(call, name)
    if not value:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return value


def _details(call: MethodCall) -> dict[str, Any]:
    """Every personal detail of the new user: `country_id` (kept as sent: cdrflow has no
    country table), `email`, then the contact fields sent."""
    details: dict[str, Any] = dict.fromkeys(FIELDS, "")
    details["reg_country"] = _required(call, "country_id")
    email = _required(call, "email")
    if not _EMAIL.fullmatch(email):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "email")
    details["reg_email"] = email
    for name, field in CONTACTS.items():
        details[field] = _text(call, name)
    return details


async def _free_pin(call: MethodCall) -> str:
    """A random 6-digit PIN no device has (as device_create draws one)."""
    for _ in range(PIN_ATTEMPTS):
        drawn = f"{secrets.randbelow(10 ** PIN_DIGITS):0{PIN_DIGITS}d}"
        if not await call.context.query(pin_in_use, drawn):
            return drawn
    raise ApiError(ErrorKind.DEVICE_NOT_CREATED)


METHODS: list[MorMethod] = [
    MorMethod("user_register", user_register, aliases=("registration",), write=True,
              envelope=Envelope.PAGE, authenticated=False),
]
