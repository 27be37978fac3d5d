"""local_calls_get (MOR X13): the on-net calls of a user in a period (docs/api.md,
"local_calls_get").

A local call is a CDR that reached a cdrflow device or user (projections.aggregates
`local_calls`): dialled to another device's extension without a provider, or through a
DID a user owns. `s_user` (default: the caller) names the user whose calls, made or
received, are listed; it must be visible to the caller (`can_see`). Tags keep MOR's
spelling (`orignator_*`). cdrflow knows no device IP addresses: the `*_ip` elements are
empty.
"""

from __future__ import annotations

from datetime import datetime, time

from api.access import can_see
from api.errors import ApiError, ErrorKind
from api.methods import Envelope, MethodCall, MorMethod
from api.user_calls import user_zone
from api.xml import Node, moment, render
from projections.aggregates import LocalCall, local_calls
from projections.callflow import devices_by_ids
from projections.devices import Device
from projections.queries import User


async def local_calls_get(call: MethodCall) -> str:
    user_id = call.identifier("s_user", ErrorKind.USER_NOT_FOUND)
    shown = call.caller
    if user_id is not None and user_id != shown.user_id:
        found_user = await call.context.blocking(call.context.read().user_by_id, user_id)
        if found_user is None or not can_see(call.caller, found_user):
            raise ApiError(ErrorKind.USER_NOT_FOUND)
        shown = found_user
    zone = user_zone(shown.timezone)
    today = call.now().astimezone(zone).date()
    start = call.seconds("from")
    end = call.seconds("till")
    if start is None:
        start = int(datetime.combine(today, time.min, zone).timestamp())
    if end is None:
        end = int(datetime.combine(today, time(23, 59, 59), zone).timestamp())
    found = await call.context.query(local_calls, shown.user_id, start, end)
    devices = await call.context.query(
        devices_by_ids, {c.device_id for c in found} | {c.terminator_device_id for c in found})
    users = await call.context.blocking(call.context.read().users_by_ids,
                                        {c.terminator_user_id for c in found})
    return render_answer(found, zone.key, devices, users)


def render_answer(calls: list[LocalCall], zone_name: str, devices: dict[int, Device],
                  users: dict[int, User]) -> str:
    zone = user_zone(zone_name)
    listed = []
    for found in calls:
        device = devices.get(found.device_id)
        terminator = devices.get(found.terminator_device_id)
        user = users.get(found.terminator_user_id)
        listed.append(Node("call", [
            Node("calldate", [Node("date", moment(found.calldate, zone)),
                              Node("timezone", zone.key)]),
            Node("orignator_device", device.label if device else ""),
            Node("orignator_caller_id", found.caller_id),
            Node("orignator_ip", ""),
            Node("orignator_channel", found.channel),
            Node("terminator_user", user.nice_name if user else ""),
            Node("terminator_device", terminator.label if terminator else ""),
            Node("terminator_ip", ""),
        ]))
    return render(Node("page", [Node("local_calls", listed)]))


METHODS: list[MorMethod] = [
    MorMethod("local_calls_get", local_calls_get, hashed=("from", "till", "s_user"),
              envelope=Envelope.PAGE_STATUS),
]
