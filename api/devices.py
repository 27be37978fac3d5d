"""Device pages: `/devices/user_devices`, `/devices/user_device_clis`, `/devices/cli_add`.

The pages show the session user's own devices and their caller IDs (CLIs). A CLI may be
added to a device the user owns or may change (a reseller: their users', the admin: any;
an accountant: only their own); the CLI then belongs to the device's owner. Adding
appends a `cli_added` event; the page shows it within a second. (docs/devices.md)
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import can_change
from api.context import ApiContext
from api.errors import xml_response
from api.pages import action, page
from api.params import read_params
from api.session import page_endpoint
from api.user_calls import user_zone
from api.xml import element, escape, moment
from projections import clis
from projections.devices import Device, device_by_id, devices_of_user, last_registrations
from projections.queries import User, user_by_id
from streams.account_events import account_event, encoded, new_id
from streams.cli_events import ADDED, MAX_CLI, MAX_DESCRIPTION
from streams.topics import ACCOUNT_EVENTS

ADD_CLI = "add_cli"
CLI_CREATED = "CLI created"
CLI_NOT_CREATED = "CLI not created"
NOT_NUMERIC = "CLI must be numeric"  # MOR's cli_add texts
ALREADY_EXISTS = "CLI already exists"
ICON = "phone.png"  # MOR's icon of a device in lists; cdrflow shows one for every type


async def user_devices(request: Request, context: ApiContext, user: User) -> Response:
    devices = await context.query(devices_of_user, user.user_id)
    registered = await context.query(last_registrations, [d.device_id for d in devices])
    zone = user_zone(user.timezone)
    rows = "".join(_device(d, registered.get(d.device_id), zone) for d in devices)
    body = f" <devices>\n{rows} </devices>\n" if rows else " <devices></devices>\n"
    return xml_response(page("Devices", body, user_id=user.user_id))


def _device(device: Device, registered: datetime | None, zone: ZoneInfo) -> str:
    # <password> stays empty: SIP/IAX2 secrets live on the switch, never in cdrflow
    when = moment(registered, zone) if registered is not None else ""
    return ("  <device>\n"
            f"   {element('acc', device.device_id)}\n"
            f"   {element('description', device.description)}\n"
            f"   {element('type', device.device_type)}\n"
            f"   {element('extension', device.extension)}\n"
            f"   {element('username', device.username)}\n"
            "   <password></password>\n"
            f"   {element('cid', device.callerid)}\n"
            f"   <last_time_registered>{when}</last_time_registered>\n"
            "  </device>\n")


async def user_device_clis(request: Request, context: ApiContext, user: User) -> Response:
    devices = {d.device_id: d for d in await context.query(devices_of_user, user.user_id)}
    found = await context.query(clis.clis_of_user, user.user_id)
    zone = user_zone(user.timezone)
    available = "".join(f'  <device id="{d.device_id}">{escape(d.label)}</device>\n'
                        for d in devices.values())
    rows = "".join(
        "  <cli>\n"
        f"   {element('cli_id', c.cli_id)}\n"
        f"   {element('device', devices[c.device_id].label)}\n"
        f"   {element('device_icon', ICON)}\n"
        f"   {element('cli_name', c.cli)}\n"
        f"   {element('cli_desc', c.description)}\n"
        f"   <added_at>{moment(c.added, zone)}</added_at>\n"
        "  </cli>\n"
        for c in found if c.device_id in devices  # a device given away takes its CLIs
    )
    body = (f" <aval_devices>\n{available} </aval_devices>\n" if available
            else " <aval_devices></aval_devices>\n")
    body += f" <clis>\n{rows} </clis>\n" if rows else " <clis></clis>\n"
    return xml_response(page("CallerIDs", body, user_id=user.user_id))


async def cli_add(request: Request, context: ApiContext, user: User) -> Response:
    params = await read_params(request, allow_get=False)
    device = await _device_of(context, user, params.get("device_id"))
    if device is None:  # unknown and foreign devices alike: ids of others stay unknown
        return xml_response(action(ADD_CLI, False, CLI_NOT_CREATED))
    cli = (params.get("cli") or "").strip()
    description = (params.get("description") or "").strip()
    if not cli.isascii() or not cli.isdigit():
        return xml_response(action(ADD_CLI, False, NOT_NUMERIC))
    if len(cli) > MAX_CLI or len(description) > MAX_DESCRIPTION:
        return xml_response(action(ADD_CLI, False, CLI_NOT_CREATED))
    if await context.query(clis.cli_exists, device.device_id, cli):
        return xml_response(action(ADD_CLI, False, ALREADY_EXISTS))
    event = account_event(ADDED, cli_id=new_id(), device_id=device.device_id,
                          user_id=device.user_id, cli=cli, description=description,
                          added_ms=int(context.clock().timestamp() * 1000))
    await context.append(ACCOUNT_EVENTS, *encoded(device.user_id, event))
    return xml_response(action(ADD_CLI, True, CLI_CREATED))


async def _device_of(context: ApiContext, user: User, device_id: str | None) -> Device | None:
    """The device asked for, if it exists and `user` may change its owner's data
    (`can_see`, but never an accountant: adding a CLI is a change)."""
    if device_id is None or not device_id.isascii() or not device_id.isdigit() \
            or len(device_id) > 18:
        return None
    device = await context.query(device_by_id, int(device_id))
    if device is None or device.user_id == user.user_id:
        return device
    owner = await context.query(user_by_id, device.user_id)
    return device if owner is not None and can_change(user, owner) else None


def routes(context: ApiContext) -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route("/devices/user_devices", page_endpoint(user_devices, context), methods=both),
        Route("/devices/user_device_clis", page_endpoint(user_device_clis, context),
              methods=both),
        Route("/devices/cli_add", page_endpoint(cli_add, context), methods=["POST"]),
    ]
