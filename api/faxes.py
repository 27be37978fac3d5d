"""The Faxes page: `/stats/faxes_list/<user id>`, the faxes a user's FAX devices received.

GET shows today's faxes (in the shown user's time zone); POST ("Change period") takes
`period_start`, `period_end`, `fax_status`, `device_id` and `search_on`. A user sees
only their own faxes, a reseller also their users', admins and accountants everyone's
(`can_see`). docs/faxes.md has the decisions.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import page_owner
from api.context import ApiContext
from api.errors import ApiError, ErrorKind, xml_response
from api.pages import LANGUAGES, page
from api.params import UINT64_MAX, Params, read_params
from api.period import period
from api.session import page_endpoint
from api.user_calls import user_zone
from api.xml import escape, moment
from projections.devices import devices_of_user
from projections.faxes import Fax, FaxFilter, faxes
from projections.queries import User
from streams.events import FAX_STATUSES

_DIGITS = re.compile(r"[0-9]{1,20}")


async def faxes_list(request: Request, context: ApiContext, user: User) -> Response:
    owner = await page_owner(context, user, request.path_params["user_id"])
    params = await read_params(request, allow_get=True)
    zone = user_zone(owner.timezone)
    where, show_device = fax_filter(params, owner.user_id, zone, context.clock())
    found = await context.query(faxes, where)
    labels = {d.device_id: d.label
              for d in await context.query(devices_of_user, owner.user_id)}
    return xml_response(render(owner, where, show_device, found, labels, zone))


def fax_filter(params: Params, user_id: int, zone: tzinfo,
               now: datetime) -> tuple[FaxFilter, str]:
    """The filter of the page (parameters checked in the spec's order) and what
    `show_device` says."""
    start, end = period(params, zone, now)
    status = (params.get("fax_status") or "all").lower()
    if status != "all" and status not in FAX_STATUSES:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "fax_status")
    device = params.get("device_id") or "all"
    device_id: int | None = None
    if device.lower() != "all":
        if not _DIGITS.fullmatch(device) or int(device) > UINT64_MAX:
            raise ApiError(ErrorKind.INVALID_PARAMETER, "device_id")
        device_id = int(device)
    where = FaxFilter(user_id=user_id, start=start, end=end,
                      status=None if status == "all" else status, device_id=device_id)
    return where, "all" if device_id is None else str(device_id)


def render(owner: User, where: FaxFilter, show_device: str, found: list[Fax],
           labels: dict[int, str], zone: tzinfo) -> str:
    languages = "".join(f"  <language>{escape(language)}</language>\n"
                        for language in LANGUAGES)
    rows = "".join(
        "  <fax>\n"
        f"   <device>{escape(labels.get(fax.device_id, ''))}</device>\n"
        f"   <filename>{escape(fax.filename)}</filename>\n"
        f"   <receive_time>{moment(fax.received, zone)}</receive_time>\n"
        f"   <sender>{escape(fax.sender)}</sender>\n"
        f"   <status>{escape(FAX_STATUSES.get(fax.status, fax.status))}</status>\n"
        "  </fax>\n"
        for fax in found
    )
    period_start = moment(datetime.fromtimestamp(where.start, zone), zone)
    period_end = moment(datetime.fromtimestamp(where.end, zone), zone)
    body = (
        " <error_msg></error_msg>\n"
        f" <userid>{owner.user_id}</userid>\n"
        f" <show_device>{escape(show_device)}</show_device>\n"
        f" <username>{escape(owner.nice_name)}</username>\n"
        f" <aval_languages>\n{languages} </aval_languages>\n"
        " <faxes>\n"
        "  <period>\n"
        f"   <period_start>{period_start}</period_start>\n"
        f"   <period_end>{period_end}</period_end>\n"
        "  </period>\n"
        f"{rows}"
        " </faxes>\n"
    )
    return page("Faxes", body)


def routes(context: ApiContext) -> list[Route]:
    return [Route("/stats/faxes_list/{user_id:int}", page_endpoint(faxes_list, context),
                  methods=["GET", "POST"])]
