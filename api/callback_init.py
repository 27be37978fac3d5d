"""callback_init (alias callback): MOR's click-to-call over the API.

The request becomes the callback request event that `/functions/activate_callback`
appends (api/callback.py, topic `callback-requests`), with the API's extra fields. MOR's
legacy answer is a bare `<Status>` document: `Ok`, `Not authenticated`, `Bad device`,
`No source`. The rules before the caller is known (GET, "Allow API globally", the IP
allow-list) answer as every method does; permission groups do not apply (MOR lists
callback_init in them but does not enforce it). docs/api.md, "callback_init".
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from api.access import api_gate, can_change
from api.callback import SCHEMA
from api.errors import ApiError, ErrorKind
from api.hash import expected_hashes, hash_matches
from api.methods import Envelope, MethodCall, MorMethod
from api.xml import Node, render
from projections.devices import device_by_id
from projections.queries import User, user_by_id
from streams.account_events import new_id
from streams.topics import CALLBACK_REQUESTS

HASHED = ("device", "dst", "src")
OK = "Ok"
NOT_AUTHENTICATED = "Not authenticated"
BAD_DEVICE = "Bad device"
NO_SOURCE = "No source"
_NUMBER = re.compile(r"\+?[0-9]{1,40}")
_PIN = re.compile(r"[0-9]{1,40}")
MAX_CLI = 80  # a caller id's length (MOR's devices.callerid column)
IDS = ("lega_tariff_id", "lega_reseller_tariff_id", "lega_lcr_id", "server_id")


def status(text: str, uniqueid: str | None = None) -> str:
    """The legacy answer: `<Status>TEXT</Status>`, the uniqueid as an attribute."""
    attrs = (("uniqueid", uniqueid),) if uniqueid is not None else ()
    return render(Node("Status", text, attrs))


async def _caller(call: MethodCall) -> User | None:
    """The caller named by `u` when the hash is right (unless hash checking is off)."""
    context, params = call.context, call.params
    username = params.get("u")
    caller = await context.blocking(context.read().user_by_username, username) \
        if username else None
    settings = context.settings
    if caller is None or settings.disable_hash_check:
        return caller
    hashes = expected_hashes(params.values, params.order, HASHED, settings.api_secret)
    return caller if hash_matches(params.get("hash"), hashes) else None


def _options(call: MethodCall) -> dict[str, Any]:
    """The optional parameters that were sent, checked; ApiError names a bad one."""
    found: dict[str, Any] = {}
    for name in ("cli_lega", "cli_legb"):
        value = call.text(name).strip()
        if len(value) > MAX_CLI or not value.isprintable():
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        if value:
            found[name] = value
    pin = call.text("card_pin").strip()
    if pin and not _PIN.fullmatch(pin):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "card_pin")
    if pin:
        found["card_pin"] = pin
    for name in IDS:
        number = call.identifier(name)
        if number is not None:
            found[name] = number
    return found


async def callback_init(call: MethodCall) -> str:
    context, request = call.context, call.request
    api_gate(context, request.client.host if request.client else None)
    caller = await _caller(call)
    if caller is None:
        return status(NOT_AUTHENTICATED)
    acc = call.text("device").strip()
    known = acc.isascii() and acc.isdigit() and len(acc) < 19  # fits UInt64
    device = await context.query(device_by_id, int(acc)) if known else None
    owner = await context.query(user_by_id, device.user_id) if device else None
    if device is None or owner is None or not can_change(caller, owner):
        return status(BAD_DEVICE)
    src, dst = call.text("src").strip(), call.text("dst").strip()
    if not _NUMBER.fullmatch(src):
        return status(NO_SOURCE)
    try:
        if dst and not _NUMBER.fullmatch(dst):
            raise ApiError(ErrorKind.INVALID_PARAMETER, "dst")
        options = _options(call)
        show_uniqueid = call.flag("callback_uniqueid")
    except ApiError as refused:
        return status(refused.message)
    now = context.clock()
    request_id = new_id()
    uniqueid = f"{int(now.timestamp())}.{request_id}"
    event = {"schema": SCHEMA, "request_id": request_id, "user_id": owner.user_id,
             "device_id": device.device_id, "src": src, "dst": dst,
             "requested_by": caller.user_id, "requested_ms": int(now.timestamp() * 1000),
             "uniqueid": uniqueid, **options}
    await context.append(CALLBACK_REQUESTS, str(owner.user_id).encode(), orjson.dumps(event))
    return status(OK, uniqueid if show_uniqueid else None)


METHODS: list[MorMethod] = [
    MorMethod("callback_init", callback_init, hashed=HASHED, aliases=("callback",),
              write=True, envelope=Envelope.BARE, authenticated=False),
]
