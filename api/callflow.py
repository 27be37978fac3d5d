"""Device callflows (MOR's "Call Flow"): the `device_callflow_update` API method and the
pages `/devices/callflow/<device id>` and `/devices/callflow_edit/<device id>?cft=`.

An update appends a `callflow_updated` event keyed by the device's owner; the answer
shows the state as it reads once the event is projected (within a second on the pages).
Checks run in this order: caller and hash (api_caller), accountants, the device, the
state, the action, the action's targets, the caller id. (docs/callflow.md)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import api_caller, can_see
from api.context import ApiContext
from api.errors import ApiError, ErrorKind, mor_endpoint, xml_response
from api.pages import action, page
from api.params import Params, read_params
from api.session import page_endpoint
from api.xml import DECLARATION, escape
from projections import callflow
from projections.devices import Device, device_by_id
from projections.queries import User, user_by_id
from streams.account_events import account_event, encoded
from streams.callflow_events import (
    ACTIONS,
    CALLERID_TYPES,
    DEFAULT_CALLERID,
    EDITABLE_STATES,
    FAX_DETECT_STATES,
    STATES,
    UPDATED,
    Callflow,
    event_fields,
    valid_custom_callerid,
    valid_external_number,
)
from streams.topics import ACCOUNT_EVENTS

METHOD = "device_callflow_update"
# the spec's parameter list, in its order (u and hash are never hashed)
HASHED = (
    "device_id", "callflow_action", "state", "forward_to_device", "external_number",
    "fax_device", "voicemail", "device_callerid", "src_callerid", "did_id", "custom",
)  # fmt: skip
API_STATES = ("before_call", "no_answer", "busy", "failed")  # the spec's four
# the pages' cft values -> states
PAGE_STATES = {"before_call": "before_call", "call": "call", "hangup": "answered",
               "noanswer": "no_answer", "busy": "busy", "failed": "failed"}
UPDATED_OK = "Callflow was successfully updated"
EDIT = "callflow_edit"
PRIORITY = 1  # cdrflow keeps one action per state
# the Call State page's action ids (MOR's: 1 is Empty, which the page does not list)
ACTION_IDS = {"empty": 1, "forward": 2, "voicemail": 3, "fax_detect": 4}
_DIGITS = re.compile(r"[0-9]{1,18}")


# --- the API method -------------------------------------------------------------------

async def device_callflow_update(request: Request, context: ApiContext) -> Response:
    params = await read_params(request, allow_get=context.settings.allow_get_api)
    caller = await api_caller(context, params, METHOD, HASHED, write=True,
                              client_ip=request.client.host if request.client else None)
    _may_change_callflows(caller)
    device, owner = await _device(context, caller, params.get("device_id"))
    state = params.get("state") or ""
    if state not in API_STATES:
        raise ApiError(ErrorKind.CALLFLOW_STATE_NOT_FOUND)
    flow = await _setting(context, caller, device, state, params.get("callflow_action") or "",
                          forward_to_device=params.get("forward_to_device"),
                          external_number=params.get("external_number"),
                          fax_device=params.get("fax_device"), callerid=(DEFAULT_CALLERID, ""))
    callerid_type, callerid_data = await _api_callerid(context, params, device)
    flow = replace(flow, callerid_type=callerid_type, callerid_data=callerid_data)
    await _append(context, flow)
    labels = await context.query(callflow.devices_by_ids, _targets([flow]))
    return xml_response(render_update(owner, device, flow, labels))


def render_update(owner: User, device: Device, flow: Callflow, labels: dict[int, Device]) -> str:
    """The answer of an update, as the spec's example; `<data>` holds the forward target
    or the fax device (the example's bare text after `<action>`)."""
    return (
        f"{DECLARATION}<page>\n"
        f" <status>{UPDATED_OK}</status>\n"
        f" <user>{escape(owner.nice_name)}</user>\n"
        f" <device>{escape(device.label)}</device>\n"
        " <callflow>\n"
        f"  <state>{STATES[flow.state]}</state>\n"
        f"  <priority>{PRIORITY}</priority>\n"
        f"  <action>{ACTIONS[flow.action]}</action>\n"
        f"  {_short('data', _target(flow, labels))}\n"
        f"  <callerid_type>{CALLERID_TYPES[flow.callerid_type]}</callerid_type>\n"
        f"  {_short('callerid_data', flow.callerid_data)}\n"
        " </callflow>\n"
        "</page>\n"
    )


async def _api_callerid(context: ApiContext, params: Params,
                        device: Device) -> tuple[str, str]:
    """The caller id options, the first given in the spec's order; From Device when none
    is. device_callerid and src_callerid select only with the value `true`."""
    if (params.get("device_callerid") or "").lower() == "true":
        return "device", ""
    if (params.get("src_callerid") or "").lower() == "true":
        return "src", ""
    did = params.get("did_id")
    if did is not None:
        found = await context.query(callflow.did_by_number, did) if _DIGITS.fullmatch(
            did) else None
        if found is None or found.user_id == 0 or found.user_id != device.user_id:
            raise ApiError(ErrorKind.DID_NOT_FOUND)
        return "did", found.did
    custom = params.get("custom")
    if custom is not None:
        if not valid_custom_callerid(custom):
            raise ApiError(ErrorKind.INVALID_PARAMETER, "custom")
        return "custom", custom
    return DEFAULT_CALLERID, ""


# --- the pages ------------------------------------------------------------------------

async def show_callflow(request: Request, context: ApiContext, user: User) -> Response:
    """The Call Flow page: every state of a device and what it does."""
    device, owner = await _device(context, user, request.path_params["device_id"])
    flows = await context.query(callflow.stored, device.device_id)
    labels = await context.query(callflow.devices_by_ids, _targets(flows.values()))
    rows = "".join(
        "   <callflow>\n"
        f"    <call_state>{STATES[state]}</call_state>\n"
        f"    <callflow_action>{escape(_shown(device, state, flows, labels))}"
        "</callflow_action>\n"
        "   </callflow>\n"
        for state in STATES
    )
    body = (" <device>\n"
            f"{_device_lines(device, '  ')}"
            f"  <callflows>\n{rows}  </callflows>\n"
            " </device>\n")
    return xml_response(page("Call Flow", body, user_id=owner.user_id))


async def edit_page(request: Request, context: ApiContext, user: User) -> Response:
    """The Call State page: the actions a state may take and the devices for each."""
    params = await read_params(request, allow_get=True)
    device, owner = await _device(context, user, request.path_params["device_id"])
    state = PAGE_STATES.get(params.get("cft") or "")
    if state is None:
        raise ApiError(ErrorKind.CALLFLOW_STATE_NOT_FOUND)
    actions = ""
    if state in EDITABLE_STATES:
        targets = [d for d in await context.query(callflow.visible_devices, user)
                   if d.device_id != device.device_id]
        actions = _action("forward", targets) + _action("voicemail", None)
        if state in FAX_DETECT_STATES:
            actions += _action("fax_detect",
                               await context.query(callflow.fax_devices, device.user_id))
    listed = f"  <actions>\n{actions}  </actions>\n" if actions else "  <actions></actions>\n"
    body = (" <callflow>\n"
            f"{_device_lines(device, '  ')}"
            f"  <call_state>{STATES[state]}</call_state>\n"
            f"{listed}"
            " </callflow>\n")
    return xml_response(page("Call State", body, user_id=owner.user_id))


async def update_from_page(request: Request, context: ApiContext, user: User) -> Response:
    """The Call State form: whattodo, cf_action, deviceid, ext_number (the spec's names).
    The state's caller id is kept (the form has none)."""
    params = await read_params(request, allow_get=True)
    try:
        _may_change_callflows(user)
        device, _owner = await _device(context, user, request.path_params["device_id"])
        state = PAGE_STATES.get(params.get("cft") or "")
        if state not in EDITABLE_STATES:
            raise ApiError(ErrorKind.CALLFLOW_STATE_NOT_FOUND)
        kind, forward, number, fax = _page_action(params)
        current = callflow.setting(await context.query(callflow.stored, device.device_id),
                                   device, state)
        flow = await _setting(context, user, device, state, kind, forward_to_device=forward,
                              external_number=number, fax_device=fax,
                              callerid=(current.callerid_type, current.callerid_data))
    except ApiError as exc:
        return xml_response(action(EDIT, False, exc.message))
    await _append(context, flow)
    return xml_response(action(EDIT, True, UPDATED_OK))


def _page_action(params: Params) -> tuple[str, str | None, str | None, str | None]:
    """(action, forward_to_device, external_number, fax_device) from the form."""
    whattodo, device = params.get("whattodo") or "change_action", params.get("deviceid")
    if whattodo == "change_local_device":
        return "forward", device, None, None
    if whattodo == "change_external_device":
        return "forward", None, params.get("ext_number"), None
    if whattodo == "change_fax_device":  # the spec sends cf_action=forward with it
        return "fax_detect", None, None, device
    if whattodo != "change_action":
        raise ApiError(ErrorKind.CALLFLOW_ACTION_NOT_FOUND)
    kind = params.get("cf_action") or ""
    kind = "fax_detect" if kind == "faxdetect" else kind
    return kind, device, params.get("ext_number"), device


# --- shared ---------------------------------------------------------------------------

def _may_change_callflows(caller: User) -> None:
    """Accountants have no access to callflows (nor any role cdrflow does not know)."""
    if caller.role not in ("admin", "reseller", "user"):
        raise ApiError(ErrorKind.CALLFLOW_NOT_AUTHORISED)


async def _device(context: ApiContext, caller: User,
                  device_id: str | int | None) -> tuple[Device, User]:
    """The device and its owner, if the device exists and `caller` may see the owner."""
    number = _id(device_id)
    device = await context.query(device_by_id, number) if number else None
    owner = await context.query(user_by_id, device.user_id) if device else None
    if device is None or owner is None or not can_see(caller, owner):
        raise ApiError(ErrorKind.DEVICE_NOT_FOUND)
    return device, owner


async def _setting(context: ApiContext, caller: User, device: Device, state: str, kind: str,
                   *, forward_to_device: str | None, external_number: str | None,
                   fax_device: str | None, callerid: tuple[str, str]) -> Callflow:
    """The new setting of an editable state, once the action and its targets check out."""
    if kind not in ACTIONS or (kind == "fax_detect" and state not in FAX_DETECT_STATES):
        raise ApiError(ErrorKind.CALLFLOW_ACTION_NOT_FOUND)
    forward, number, fax = 0, "", 0
    if kind == "forward":
        if forward_to_device is not None:  # wins over external_number
            forward = await _local_device(context, caller, device, forward_to_device)
        elif external_number is not None:
            if not valid_external_number(external_number):
                raise ApiError(ErrorKind.EXTERNAL_NUMBER_NOT_FOUND)
            number = external_number
        else:
            raise ApiError(ErrorKind.MISSING_FORWARD)
    elif kind == "fax_detect":
        fax = await _fax_device(context, device, fax_device)
    now_ms = int(context.clock().timestamp() * 1000)
    return Callflow(device.device_id, device.user_id, state, kind, forward, number, fax,
                    callerid[0], callerid[1], now_ms)


async def _local_device(context: ApiContext, caller: User, device: Device, raw: str) -> int:
    """A device to forward to: one whose owner the caller may see, not the device itself."""
    number = _id(raw)
    target = await context.query(device_by_id, number) if number else None
    owner = await context.query(user_by_id, target.user_id) if target else None
    if (target is None or owner is None or not can_see(caller, owner)
            or target.device_id == device.device_id):
        raise ApiError(ErrorKind.LOCAL_DEVICE_NOT_FOUND)
    return target.device_id


async def _fax_device(context: ApiContext, device: Device, raw: str | None) -> int:
    """A fax device (type FAX) of the device's owner."""
    number = _id(raw)
    fax = await context.query(device_by_id, number) if number else None
    if (fax is None or fax.user_id != device.user_id
            or fax.device_type.upper() != callflow.FAX_TYPE):
        raise ApiError(ErrorKind.FAX_DEVICE_NOT_FOUND)
    return fax.device_id


async def _append(context: ApiContext, flow: Callflow) -> None:
    event = account_event(UPDATED, **event_fields(flow))
    await context.append(ACCOUNT_EVENTS, *encoded(flow.user_id, event))


def _shown(device: Device, state: str, flows: dict[str, Callflow],
           labels: dict[int, Device]) -> str:
    """What the Call Flow page says a state does."""
    if state == "call":
        return f"Dial({device.label})"
    if state == "answered":
        return "Hangup"
    flow = callflow.setting(flows, device, state)
    if flow.action == "empty":
        return "-"
    if flow.action == "voicemail":
        return "Voicemail"
    return f"{ACTIONS[flow.action]}({_target(flow, labels)})"


def _target(flow: Callflow, labels: dict[int, Device]) -> str:
    """The forward target (device label or number) or fax device label; "" for none."""
    device_id = flow.forward_to_device or flow.fax_device
    if device_id:
        found = labels.get(device_id)
        return found.label if found else str(device_id)
    return flow.external_number


def _targets(flows: Iterable[Callflow]) -> list[int]:
    return [d for flow in flows for d in (flow.forward_to_device, flow.fax_device) if d]


def _action(kind: str, devices: list[Device] | None) -> str:
    listed = ""
    if devices is not None:
        rows = "".join("      <device>\n"
                       f"       <device_id>{d.device_id}</device_id>\n"
                       f"       <device_name>{escape(d.label)}</device_name>\n"
                       "      </device>\n" for d in devices)
        listed = (f"     <aval_devices>\n{rows}     </aval_devices>\n" if rows
                  else "     <aval_devices></aval_devices>\n")
    return ("   <action>\n"
            f"    <priority>{PRIORITY}</priority>\n"
            f"    <action_id>{ACTION_IDS[kind]}</action_id>\n"
            f"{listed}"
            "   </action>\n")


def _device_lines(device: Device, indent: str) -> str:
    icon = "fax.png" if device.device_type.upper() == callflow.FAX_TYPE else "phone.png"
    return (f"{indent}<device_id>{device.device_id}</device_id>\n"
            f"{indent}<device_description>{escape(device.label)}</device_description>\n"
            f"{indent}<device_icon>{icon}</device_icon>\n")


def _short(name: str, value: str) -> str:
    """`<name>value</name>`, or `<name/>` when empty (as the spec's example writes it)."""
    return f"<{name}>{escape(value)}</{name}>" if value else f"<{name}/>"


def _id(value: str | int | None) -> int | None:
    if isinstance(value, int):
        return value or None
    if value is None or not _DIGITS.fullmatch(value):
        return None
    return int(value) or None


def routes(context: ApiContext) -> list[Route]:
    async def update(request: Request) -> Response:
        return await device_callflow_update(request, context)

    api = mor_endpoint(update)
    both = ["GET", "POST"]
    return [
        Route(f"/billing/api/{METHOD}", api, methods=both),
        Route(f"/api/{METHOD}", api, methods=both),  # MOR X4's path
        Route("/devices/callflow/{device_id:int}", page_endpoint(show_callflow, context),
              methods=both),
        Route("/devices/callflow_edit/{device_id:int}", page_endpoint(edit_page, context),
              methods=["GET"]),
        Route("/devices/callflow_edit/{device_id:int}",
              page_endpoint(update_from_page, context), methods=["POST"]),
    ]
