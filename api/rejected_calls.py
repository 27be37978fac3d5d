"""rejected_calls_get: the open rejected calls (rated by nobody yet), for operators.

cdrflow's addition to the MOR API (docs/rerating.md, "Rejected calls"), built like a MOR
method: checks run in MOR's order (`api.access.api_caller`: API allowed, client IP, the
caller `u`, the hash, the permission group), then the caller's role (the admin's and, to
read, the accountant's), then the parameters in documented order. Read from the
`rejected_calls` projection, less the calls `cdrs` has a CDR of (projections.rejections).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import api_caller
from api.calls_page import display_names
from api.context import ApiContext
from api.errors import ApiError, ErrorKind, mor_endpoint, xml_response
from api.params import MAX_TIMESTAMP, Params, read_params, seconds_param
from api.user_calls import user_zone
from api.xml import DECLARATION, escape, moment, seconds
from projections.queries import User
from projections.rejections import REASONS, OpenRejection, RejectionFilter, open_rejections

METHOD = "rejected_calls_get"
HASHED = ("period_start", "period_end", "s_reason")
READERS = ("admin", "accountant")  # every user's rejected calls; nobody else's method


async def rejected_calls_get(request: Request, context: ApiContext) -> Response:
    params = await read_params(request, allow_get=context.settings.allow_get_api)
    client_ip = request.client.host if request.client else None
    caller = await api_caller(context, params, METHOD, HASHED, client_ip=client_ip)
    if caller.role not in READERS:
        raise ApiError(ErrorKind.NOT_AUTHORIZED)
    where = rejection_filter(params)
    found = await context.query(open_rejections, where)
    users = await context.blocking(context.read().users_by_ids, {r.user_id for r in found})
    return xml_response(render(caller, params, where, found, users))


def rejection_filter(params: Params) -> RejectionFilter:
    """`period_start`, `period_end` (unix seconds of the call's start, inclusive; absent:
    unbounded) and `s_reason` (`all` or a reason code, any letter case), in that order."""
    start = seconds_param(params, "period_start")
    end = seconds_param(params, "period_end")
    reason = (params.get("s_reason") or "all").lower()
    if reason != "all" and reason not in REASONS:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "s_reason")
    return RejectionFilter(start=start if start is not None else 0,
                           end=end if end is not None else MAX_TIMESTAMP,
                           reason=None if reason == "all" else reason)


def render(caller: User, params: Params, where: RejectionFilter, found: list[OpenRejection],
           users: dict[int, User]) -> str:
    """The page, laid out as user_calls_get's: the head, the period and filter shown,
    one `<call>` per open rejected call, elements in alphabetical order."""
    zone = user_zone(caller.timezone)
    names = display_names(users)
    shown_start = _shown(where.start, zone) if params.get("period_start") else ""
    shown_end = _shown(where.end, zone) if params.get("period_end") else ""
    rows = "".join(_call(rejection, zone, names) for rejection in found)
    calls = f"   <calls>\n{rows}   </calls>\n" if found else "   <calls></calls>\n"
    return (
        f"{DECLARATION}"
        "<page>\n"
        " <pagename>Rejected calls</pagename>\n"
        " <language>en</language>\n"
        " <error_msg></error_msg>\n"
        f" <userid>{caller.user_id}</userid>\n"
        f" <username>{escape(caller.username)}</username>\n"
        f" <total_calls>{len(found)}</total_calls>\n"
        " <calls_stat>\n"
        "   <period>\n"
        f"     <period_start>{shown_start}</period_start>\n"
        f"     <period_end>{shown_end}</period_end>\n"
        "   </period>\n"
        f"   <show_reason>{escape(where.reason or 'all')}</show_reason>\n"
        f"{calls}"
        " </calls_stat>\n"
        "</page>\n"
    )


def _shown(second: int, zone: tzinfo) -> str:
    return moment(datetime.fromtimestamp(min(second, MAX_TIMESTAMP), UTC), zone)


def _call(rejection: OpenRejection, zone: tzinfo, names: dict[int, str]) -> str:
    started = datetime.fromtimestamp(rejection.start_ms // 1000, UTC)
    return (
        "     <call>\n"
        f"       <call_id>{escape(rejection.call_id)}</call_id>\n"
        f"       <calldate2>{moment(started, zone)}</calldate2>\n"
        f"       <clid>{escape(rejection.clid)}</clid>\n"
        f"       <detail>{escape(rejection.detail)}</detail>\n"
        f"       <device_id>{rejection.device_id}</device_id>\n"
        f"       <did>{escape(rejection.did)}</did>\n"
        f"       <dst>{escape(rejection.dst)}</dst>\n"
        f"       <nice_billsec>{seconds(rejection.billsec)}</nice_billsec>\n"
        f"       <provider_id>{rejection.provider_id}</provider_id>\n"
        f"       <reason>{escape(rejection.reason)}</reason>\n"
        f"       <server_id>{rejection.server_id}</server_id>\n"
        f"       <src>{escape(rejection.src)}</src>\n"
        f"       <user>{names.get(rejection.user_id, '')}</user>\n"
        f"       <user_id>{rejection.user_id}</user_id>\n"
        "     </call>\n"
    )


def routes(context: ApiContext) -> list[Route]:
    endpoint = mor_endpoint(partial(rejected_calls_get, context=context))
    return [Route(f"/billing/api/{METHOD}", endpoint, methods=["GET", "POST"])]
