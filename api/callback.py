"""`/functions/activate_callback?src=&dst=&acc=`: a callback request for the switches.

The request is an event on the `callback-requests` topic (docs/events.md); switches
consume it and call `src` first, then `dst`, through device `acc`. Texts: `Callback
activated`; failures `No source`, `No destination`, `Bad device` (MOR's legacy callback
words).
"""

from __future__ import annotations

import re

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import can_change
from api.context import ApiContext
from api.errors import xml_response
from api.pages import action
from api.params import read_params
from api.session import page_endpoint
from projections.devices import device_by_id
from projections.queries import User, user_by_id
from streams.account_events import new_id
from streams.topics import CALLBACK_REQUESTS

SCHEMA = "cdrflow.callback-request/1"
NAME = "callback"
ACTIVATED = "Callback activated"
NO_SOURCE = "No source"
NO_DESTINATION = "No destination"
BAD_DEVICE = "Bad device"
_NUMBER = re.compile(r"\+?[0-9]{1,40}")


async def activate_callback(request: Request, context: ApiContext, user: User) -> Response:
    params = await read_params(request, allow_get=True)
    src, dst = (params.get("src") or "").strip(), (params.get("dst") or "").strip()
    if not _NUMBER.fullmatch(src):
        return xml_response(action(NAME, False, NO_SOURCE))
    if not _NUMBER.fullmatch(dst):
        return xml_response(action(NAME, False, NO_DESTINATION))
    acc = params.get("acc") or ""
    known = acc.isascii() and acc.isdigit() and len(acc) < 19  # fits UInt64
    device = await context.query(device_by_id, int(acc)) if known else None
    owner = await context.query(user_by_id, device.user_id) if device else None
    if device is None or owner is None or not can_change(user, owner):
        return xml_response(action(NAME, False, BAD_DEVICE))
    event = {"schema": SCHEMA, "request_id": new_id(), "user_id": owner.user_id,
             "device_id": device.device_id, "src": src, "dst": dst,
             "requested_by": user.user_id,
             "requested_ms": int(context.clock().timestamp() * 1000)}
    await context.append(CALLBACK_REQUESTS, str(owner.user_id).encode(), orjson.dumps(event))
    return xml_response(action(NAME, True, ACTIVATED))


def routes(context: ApiContext) -> list[Route]:
    return [Route("/functions/activate_callback", page_endpoint(activate_callback, context),
                  methods=["GET", "POST"])]
