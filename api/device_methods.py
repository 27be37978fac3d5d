"""devices_get (device_list), device_details_get, device_create and cli_add.

Devices are rating's reference data: device_create appends the `device_created` event
the rater and the sink read (keyed by the owner's user id), cli_add a `cli_added`.
SIP/IAX2 secrets are never kept (docs/devices.md), so `secret` is always empty.
(docs/api.md, "Devices and CLIs")
"""

from __future__ import annotations

import gzip
import secrets

from starlette.responses import Response

from api.access import can_change, can_see, page_owner
from api.errors import ApiError, ErrorKind, xml_response
from api.methods import MANAGERS, Envelope, MethodCall, MorMethod
from api.xml import Node, money, render
from projections import clis
from projections.balance import balance
from projections.devices import (
    Device,
    device_by_id,
    device_by_username,
    devices_of_user,
    pin_in_use,
)
from projections.queries import user_by_id
from projections.webhooks import call_end_url
from rating.reference import MAX_PIN
from streams.account_events import account_event, encoded, new_id
from streams.callflow_events import valid_custom_callerid
from streams.cli_events import ADDED, MAX_CLI, MAX_COMMENT, MAX_DESCRIPTION
from streams.topics import ACCOUNT_EVENTS

# device_create's `type` values (any letter case) and how cdrflow stores them
DEVICE_TYPES = {t.lower(): t for t in ("SIP", "PJSIP", "IAX2", "FAX", "Virtual", "H323")}
PIN_DIGITS = 6  # a generated PIN
PIN_ATTEMPTS = 20
MAX_DEVICE_DESCRIPTION = 200
DEVICE_CREATED = "Device created"
CLI_CREATED = "CLI successfully created"
DETAILS_ROLES = frozenset({"admin", "reseller", "accountant"})  # never a simple user


async def devices_get(call: MethodCall) -> str | Response:
    if call.params.get("user_id") is None:
        raise ApiError(ErrorKind.USER_ID_EMPTY)
    user_id = call.required_id("user_id", ErrorKind.USER_NOT_FOUND)
    call.flag("show_hidden_devices")  # cdrflow hides no device: validated, changes nothing
    owner = await page_owner(call.context, call.caller, user_id)
    devices = await call.context.query(devices_of_user, owner.user_id)
    document = render(Node("page", [Node("devices", [_listed(d) for d in devices])]))
    return _maybe_gzipped(call, document)


def _listed(device: Device) -> Node:
    return Node("device", [
        Node("device_id", device.device_id), Node("device_type", device.device_type),
        Node("devicegroup_id", ""), Node("primary_device", 0),
        Node("username", device.username), Node("secret", ""), Node("ipaddr", ""),
        Node("port", ""), Node("callerid", device.callerid)])


def _maybe_gzipped(call: MethodCall, document: str) -> str | Response:
    """The list gzipped (Content-Encoding: gzip) when the client accepts gzip."""
    accepted = call.request.headers.get("accept-encoding", "").lower()
    if "gzip" not in accepted:
        return document
    response = xml_response(document)
    response.body = gzip.compress(response.body, mtime=0)
    response.headers["content-encoding"] = "gzip"
    response.headers["content-length"] = str(len(response.body))
    response.headers["vary"] = "Accept-Encoding"
    return response


async def device_details_get(call: MethodCall) -> str:
    device = await _visible_device(call)
    funds = await call.context.query(balance, device.user_id)
    webhook = await call.context.query(call_end_url, device.user_id, device.device_id)
    return render(Node("page", [Node("device", [
        Node("id", device.device_id), Node("accountcode", device.device_id),
        Node("device_type", device.device_type), Node("name", device.name),
        Node("extension", device.extension), Node("description", device.description),
        Node("username", device.username), Node("secret", ""),
        Node("callerid", device.callerid), Node("pin", device.pin),
        Node("devicegroup_id", ""), Node("user_id", device.user_id),
        Node("balance", money(funds)), Node("webhook_url_for_call_end", webhook)])]))


async def _visible_device(call: MethodCall) -> Device:
    """The device of `device_id` (else `device_u`, its login) if the caller may see its
    owner; unknown and invisible devices alike: `Device was not found`."""
    context = call.context
    if call.params.get("device_id") is not None:
        device = await context.query(device_by_id, call.required_id(
            "device_id", ErrorKind.DEVICE_NOT_FOUND))
    elif call.params.get("device_u") is not None:
        device = await context.query(device_by_username, call.text("device_u"))
    else:
        device = None
    owner = await context.query(user_by_id, device.user_id) if device else None
    if device is None or owner is None or not can_see(call.caller, owner):
        raise ApiError(ErrorKind.DEVICE_NOT_FOUND)
    return device


async def device_create(call: MethodCall) -> str:
    context = call.context
    user_id = call.required_id("user_id", ErrorKind.USER_NOT_FOUND)
    owner = await page_owner(context, call.caller, user_id, can_change)
    kind = DEVICE_TYPES.get(call.text("type").lower())
    if kind is None:
        raise ApiError(ErrorKind.DEVICE_TYPE_INVALID)
    if call.text("devicegroup_id", "0") != "0":  # cdrflow has no device groups
        raise ApiError(ErrorKind.DEVICE_GROUP_INVALID)
    description, callerid = call.text("description").strip(), call.text("caller_id")
    if len(description) > MAX_DEVICE_DESCRIPTION:
        return _not_created(f"description is longer than {MAX_DEVICE_DESCRIPTION} characters")
    if callerid and not valid_custom_callerid(callerid):
        return _not_created("caller_id must be 1 to 100 characters without control characters")
    pin = await _pin(call)
    if pin is None:
        return _not_created("no free PIN was found; send one")
    device_id = new_id()
    event = account_event("device_created", device_id=device_id, user_id=owner.user_id,
                          device_type=kind, name=str(device_id), extension=str(device_id),
                          description=description, username=str(device_id),
                          callerid=callerid, pin=pin)
    await context.append(ACCOUNT_EVENTS, *encoded(owner.user_id, event))
    return render(Node("page", [Node("status", DEVICE_CREATED), Node("id", device_id)]))


async def _pin(call: MethodCall) -> str | None:
    """The PIN asked for (absent: a random free one, None if none was found; empty: no
    PIN); raises the documented errors."""
    pin = call.params.values.get("pin")
    if pin is None:
        for _ in range(PIN_ATTEMPTS):
            drawn = f"{secrets.randbelow(10 ** PIN_DIGITS):0{PIN_DIGITS}d}"
            if not await call.context.query(pin_in_use, drawn):
                return drawn
        return None
    pin = pin.strip()
    if pin and not (pin.isascii() and pin.isdigit()):
        raise ApiError(ErrorKind.PIN_NOT_NUMERIC)
    if len(pin) > MAX_PIN:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "pin")
    if not pin:
        return ""
    used: bool = await call.context.query(pin_in_use, pin)
    if used:
        raise ApiError(ErrorKind.PIN_USED)
    return pin


def _not_created(message: str) -> str:
    return render(Node("page", [Node("error", ApiError(ErrorKind.DEVICE_NOT_CREATED).message),
                                Node("message", message)]))


async def cli_add(call: MethodCall) -> str:
    context = call.context
    device = await _changeable_device(call)
    number = call.text("cli_number").strip()
    if not number or not number.isascii() or not number.isdigit():
        raise ApiError(ErrorKind.CLI_NOT_NUMERIC)
    if len(number) > MAX_CLI:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "cli_number")
    description = call.text("cli_description").strip()
    if len(description) > MAX_DESCRIPTION:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "cli_description")
    comment = call.text("comment")
    if len(comment) > MAX_COMMENT:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "comment")
    banned = call.flag("banned")
    if call.text("ivr_id", "0") != "0":  # cdrflow has no IVRs
        raise ApiError(ErrorKind.IVR_NOT_FOUND)
    if await context.query(clis.cli_exists, device.device_id, number):
        raise ApiError(ErrorKind.CLI_EXISTS)
    event = account_event(ADDED, cli_id=new_id(), device_id=device.device_id,
                          user_id=device.user_id, cli=number, description=description,
                          added_ms=int(call.now().timestamp() * 1000), comment=comment,
                          banned=banned)
    await context.append(ACCOUNT_EVENTS, *encoded(device.user_id, event))
    return render(Node("page", [Node("status", CLI_CREATED)]))


async def _changeable_device(call: MethodCall) -> Device:
    """The device of `device_id` if the caller may change its owner; else Access Denied
    (unknown devices too)."""
    device_id = call.required_id("device_id", ErrorKind.ACCESS_DENIED)
    device = await call.context.query(device_by_id, device_id)
    owner = await call.context.query(user_by_id, device.user_id) if device else None
    if device is None or owner is None or not can_change(call.caller, owner):
        raise ApiError(ErrorKind.ACCESS_DENIED)
    return device


METHODS: list[MorMethod] = [
    MorMethod("devices_get", devices_get, hashed=("user_id",), aliases=("device_list",),
              envelope=Envelope.PAGE),
    MorMethod("device_details_get", device_details_get, hashed=("device_id", "device_u"),
              roles=DETAILS_ROLES, refused=ErrorKind.ACCESS_DENIED, envelope=Envelope.PAGE),
    MorMethod("device_create", device_create,
              hashed=("user_id", "description", "pin", "type", "devicegroup_id", "caller_id"),
              roles=MANAGERS, write=True, envelope=Envelope.PAGE),
    MorMethod("cli_add", cli_add,
              hashed=("device_id", "cli_number", "cli_description", "comment", "banned",
                      "ivr_id"),
              write=True, envelope=Envelope.PAGE),
]
