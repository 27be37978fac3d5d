"""active_calls_get: the live calls the caller may see, as the stream last published them.

Checks run in MOR's order: the access rules of `api.access.api_caller`, then the filters
in the order the spec lists their errors. The hash: the spec lists `u` as the one hashed
parameter, while its worked example hashes nothing but the secret; both are accepted
(docs/active_calls.md). Admins and accountants see every call, resellers their own and
their users' calls, users their own (as caller, or as the owner of the DID called).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import api_caller, can_see
from api.context import ApiContext
from api.errors import mor_endpoint, xml_response
from api.hash import mor_hash
from api.params import Params, read_params
from api.user_calls import user_zone
from api.xml import DECLARATION, escape, moment
from projections.active_calls import (
    STATUSES,
    ActiveCall,
    active_calls,
    known_destination_group,
    known_direction,
)
from projections.callflow import devices_by_ids, did_by_number
from projections.devices import Device
from projections.providers import providers
from projections.queries import User

HASHED = ("u",)
MAX_AGE = timedelta(hours=4)  # a live call older than this is taken as lost, not shown
PRIVILEGED = ("admin", "accountant")  # see every call and the providers
_ID = re.compile(r"[0-9]{1,19}")
_DID = re.compile(r"[0-9%]{1,64}")


class NotFound(Exception):
    """A filter the caller may not use; its message is the spec's error text."""


@dataclass(frozen=True, slots=True)
class Filters:
    server_id: int | None = None
    direction: str | None = None
    user_id: int | None = None
    device_id: int | None = None
    dst_user_id: int | None = None
    dst_device_id: int | None = None
    destination_group: str | None = None
    status: str | None = None
    provider_id: int | None = None
    did: str | None = None
    destination: str | None = None
    source: str | None = None

    def keep(self, call: ActiveCall) -> bool:
        checks = (
            (self.server_id, call.server_id), (self.direction, call.direction),
            (self.user_id, call.user_id), (self.device_id, call.device_id),
            (self.dst_user_id, call.dst_user_id), (self.dst_device_id, 0),  # never known
            (self.destination_group, call.destination_group), (self.status, call.status),
            (self.provider_id, call.provider_id),
        )
        return (all(wanted is None or wanted == value for wanted, value in checks)
                and matches(self.did, call.did) and matches(self.destination, call.prefix)
                and matches(self.source, call.src))


def matches(pattern: str | None, value: str) -> bool:
    """MOR's LIKE: `%` stands for any text (none included); without it, the value itself."""
    if pattern is None:
        return True
    if "%" not in pattern:
        return value == pattern
    # linear: the first part is a prefix, the last a suffix, the middle ones found in
    # order, each at its leftmost place (a regex of `.*` backtracks exponentially)
    first, *middle, last = pattern.split("%")
    if len(first) + len(last) > len(value) or not (
            value.startswith(first) and value.endswith(last)):
        return False
    at, end = len(first), len(value) - len(last)
    for part in middle:
        found = value.find(part, at, end)
        if found < 0:
            return False
        at = found + len(part)
    return True


async def active_calls_get(request: Request, context: ApiContext) -> Response:
    params = await read_params(request, allow_get=context.settings.allow_get_api)
    client_ip = request.client.host if request.client else None
    username = params.get("u") or ""
    caller = await api_caller(context, params, "active_calls_get", HASHED, client_ip=client_ip,
                              extra_hashes=[mor_hash([username], context.settings.api_secret)])
    try:
        filters = await read_filters(context, caller, params)
    except NotFound as refused:
        return xml_response(status_document("error", str(refused)))
    now = context.clock()
    shown, users = await visible_live_calls(context, caller, now, filters.keep)
    if not shown:
        return xml_response(status_document("message", "No data found..."))
    devices = await context.query(devices_by_ids, {call.device_id for call in shown})
    return xml_response(render(caller, shown, users, devices, now))


async def visible_live_calls(context: ApiContext, caller: User, now: datetime,
                             keep: Callable[[ActiveCall], bool] = lambda call: True,
                             ) -> tuple[list[ActiveCall], dict[int, User]]:
    """The live calls at `now` that `keep` keeps and `caller` may see, and their users
    (callers and DID owners) by id."""
    since_ms = int((now - MAX_AGE).timestamp() * 1000)
    found = [call for call in await context.query(active_calls, since_ms) if keep(call)]
    users = await context.blocking(context.read().users_by_ids,
                                   {c.user_id for c in found} | {c.dst_user_id for c in found})
    return [call for call in found if visible(caller, call, users)], users


def visible(caller: User, call: ActiveCall, users: dict[int, User]) -> bool:
    if caller.role in PRIVILEGED:
        return True
    ends = (users.get(call.user_id), users.get(call.dst_user_id) if call.dst_user_id else None)
    return any(user is not None and can_see(caller, user) for user in ends)


async def read_filters(context: ApiContext, caller: User, params: Params) -> Filters:
    """The filters, checked in the order of the spec's error list; raises NotFound."""
    server = _id(params.get("s_server"), "Server was not found")
    direction = params.get("s_country")
    if direction is not None and not await context.query(known_direction, direction):
        raise NotFound("Direction was not found")
    user_id = await _user(context, caller, params.get("s_user_id"),
                          "Originating User was not found")
    device_id = await _device(context, user_id, params.get("s_device"),
                              "Originating Device was not found")
    dst_user_id = await _user(context, caller, params.get("s_dst_user_id"),
                              "Terminating User was not found")
    dst_device_id = await _device(context, dst_user_id, params.get("s_dst_device"),
                                  "Terminating Device was not found")
    group = params.get("s_destination_group")
    if group is not None and not await context.query(known_destination_group, group):
        raise NotFound("Destination Group was not found")
    status = params.get("s_status")
    if status is not None and status.lower() not in STATUSES:
        raise NotFound("Status value must be Ringing or Answered")
    provider = _id(params.get("s_provider"), "Provider was not found")
    if provider is not None and (caller.role not in PRIVILEGED or provider not in {
            p.provider_id for p in await context.query(providers)}):
        raise NotFound("Provider was not found")
    did = params.get("s_did")
    if did is not None:
        await _check_did(context, caller, did)
    return Filters(server, direction, user_id, device_id, dst_user_id, dst_device_id, group,
                   status.lower() if status else None, provider, did,
                   params.get("s_destination"), params.get("s_source"))


def _id(value: str | None, error: str) -> int | None:
    if value is None:
        return None
    if not _ID.fullmatch(value):
        raise NotFound(error)
    return int(value)


async def _user(context: ApiContext, caller: User, value: str | None, error: str) -> int | None:
    user_id = _id(value, error)
    if user_id is None:
        return None
    user = await context.blocking(context.read().user_by_id, user_id)
    if user is None or not can_see(caller, user):
        raise NotFound(error)
    return user_id


async def _device(context: ApiContext, user_id: int | None, value: str | None,
                  error: str) -> int | None:
    """A device filter of the user filter before it ("does not work without" it)."""
    if user_id is None:
        return None
    device_id = _id(value, error)
    if device_id is None:
        return None
    device = (await context.query(devices_by_ids, [device_id])).get(device_id)
    if device is None or device.user_id != user_id:
        raise NotFound(error)
    return device_id


async def _check_did(context: ApiContext, caller: User, did: str) -> None:
    if not _DID.fullmatch(did):
        raise NotFound("Did was not found")
    if "%" in did:
        return  # a pattern: it may match no DID at all, which is "No data found..."
    owner = await context.query(did_by_number, did)
    if owner is None:
        raise NotFound("Did was not found")
    if caller.role in PRIVILEGED:
        return
    user = await context.blocking(context.read().user_by_id, owner.user_id)
    if user is None or not can_see(caller, user):
        raise NotFound("Did was not found")


def status_document(kind: str, text: str) -> str:
    """The spec's `<page><status>` envelope: kind is `error` or `message`."""
    return (f"{DECLARATION}<page>\n   <status>\n       <{kind}>{escape(text)}</{kind}>\n"
            "   </status>\n</page>\n")


def render(caller: User, calls: list[ActiveCall], users: dict[int, User],
           devices: dict[int, Device], now: datetime) -> str:
    zone = user_zone(caller.timezone)
    now_ms = int(now.timestamp() * 1000)
    privileged = caller.role in PRIVILEGED
    parts = [DECLARATION, "<page>\n <active_calls>\n"]
    for call in calls:
        user, device = users.get(call.user_id), devices.get(call.device_id)
        answered = call.status == "answered"
        fields: list[tuple[str, object]] = [
            ("id", call.call_id), ("uniqueid", call.uniqueid),
            ("status", call.status.capitalize()),
            ("answer_time", moment(datetime.fromtimestamp(call.answered_ms / 1000, UTC), zone)
             if answered else ""),
            ("duration", max(0, now_ms - call.answered_ms) // 1000 if answered else ""),
            ("src", call.src), ("user_id", call.user_id),
            ("user", user.nice_name if user else ""), ("src_device_id", call.device_id),
            *_device_fields("device", device),
            ("localized_dst", call.localized_dst), ("direction_code", ""),
            ("direction_name", call.direction), ("destination_name", call.destination),
            ("provider_id", call.provider_id if privileged and call.provider_id else ""),
            ("provider_name", call.provider_name if privileged else ""),
            ("channel", call.channel),
        ]
        if call.dst_user_id:
            dst_user = users.get(call.dst_user_id)
            fields += [("dst_user_id", call.dst_user_id),
                       ("dst_user", dst_user.nice_name if dst_user else ""),
                       ("dst_device_id", ""), *_device_fields("dst_device", None)]
        parts.append("  <active_call>\n")
        parts += [f"   {_element(name, value)}\n" for name, value in fields]
        parts.append("  </active_call>\n")
    parts.append(" </active_calls>\n</page>\n")
    return "".join(parts)


def _device_fields(prefix: str, device: Device | None) -> list[tuple[str, object]]:
    if device is None:
        return [(f"{prefix}_{name}", "") for name in
                ("type", "extension", "name", "istrunk", "ani")]
    return [(f"{prefix}_type", device.device_type), (f"{prefix}_extension", device.extension),
            (f"{prefix}_name", device.name), (f"{prefix}_istrunk", 0), (f"{prefix}_ani", 0)]


def _element(name: str, value: object) -> str:
    """`<name>value</name>`, and `<name/>` for an empty value, as the spec shows them."""
    text = escape(value)
    return f"<{name}>{text}</{name}>" if text else f"<{name}/>"


def routes(context: ApiContext) -> list[Route]:
    endpoint: Callable[..., object] = mor_endpoint(partial(active_calls_get, context=context))
    return [Route(path, endpoint, methods=["GET", "POST"])
            for path in ("/billing/api/active_calls_get", "/api/active_calls_get")]
