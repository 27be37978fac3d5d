"""The Missed calls page: `/stats/missed_calls` (docs/stats_pages.md).

GET shows today's missed calls of the logged-in user (in their time zone); POST "Change
period" takes `userid`, `search_on`, `period_start`, `period_end` (`YYYY-MM-DD` or epoch
seconds); POST "Process call" takes `call_id` and `processed` (1 or 0) and appends a
missed_call_processed event, then answers the page with the mark applied. `userid` names
another user's page: shown if `can_see`, marked if `can_change`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, tzinfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import can_change, can_see, page_owner_param
from api.context import ApiContext
from api.errors import ApiError, ErrorKind, xml_response
from api.pages import LANGUAGES, page
from api.params import Params, read_params
from api.period import period
from api.session import page_endpoint
from api.user_calls import user_zone
from api.xml import duration, escape, hangup_word, moment
from projections.missed_calls import MissedCall, is_missed_call, missed_calls
from projections.queries import User
from streams.account_events import account_event, encoded
from streams.missed_call_events import MAX_CALL_ID, PROCESSED
from streams.topics import ACCOUNT_EVENTS

PAGENAME = "Missed calls"


async def missed_calls_page(request: Request, context: ApiContext, user: User) -> Response:
    params = await read_params(request, allow_get=True)
    marking = params.get("processed") is not None or params.get("call_id") is not None
    owner = await page_owner_param(context, user, params, can_change if marking else can_see)
    zone = user_zone(owner.timezone)
    start, end = period(params, zone, context.clock())
    mark: tuple[str, bool] | None = None
    if marking:
        mark = await _process(context, owner, params)
    found = await context.query(missed_calls, owner.user_id, start, end)
    if mark is not None:  # the page shows the mark before the projection has it
        found = [replace(c, processed=mark[1]) if c.call_id == mark[0] else c for c in found]
    return xml_response(render(owner, start, end, found, zone))


async def _process(context: ApiContext, owner: User, params: Params) -> tuple[str, bool]:
    """Append the mark `processed` (1/0) of missed call `call_id` of `owner`."""
    call_id = params.get("call_id")
    if call_id is None or len(call_id) > MAX_CALL_ID:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "call_id")
    processed = params.get("processed")
    if processed not in ("0", "1"):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "processed")
    if not await context.query(is_missed_call, owner.user_id, call_id):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "call_id")
    event = account_event(PROCESSED, user_id=owner.user_id, call_id=call_id,
                          processed=processed == "1",
                          at_ms=int(context.clock().timestamp() * 1000))
    await context.append(ACCOUNT_EVENTS, *encoded(owner.user_id, event))
    return call_id, processed == "1"


def render(owner: User, start: int, end: int, found: list[MissedCall], zone: tzinfo) -> str:
    languages = "".join(f"  <language>{escape(language)}</language>\n"
                        for language in LANGUAGES)
    rows = "".join(
        "   <call>\n"
        f"    <call_id>{escape(call.call_id)}</call_id>\n"
        f"    <date>{moment(call.calldate, zone)}</date>\n"
        f"    <called_from>{escape(call.src)}</called_from>\n"
        f"    <called_to>{escape(call.dst)}</called_to>\n"
        f"    <duration>{duration(call.duration)}</duration>\n"
        f"    <hangup_cause>{escape(hangup_word(call.disposition))}"
        "</hangup_cause>\n"
        f"    <processed>{int(call.processed)}</processed>\n"
        "   </call>\n"
        for call in found
    )
    calls = f"  <calls>\n{rows}  </calls>\n" if rows else "  <calls></calls>\n"
    body = (
        " <error_msg></error_msg>\n"
        f" <userid>{owner.user_id}</userid>\n"
        f" <missed_total>{len(found)}</missed_total>\n"
        f" <username>{escape(owner.nice_name)}</username>\n"
        f" <aval_languages>\n{languages} </aval_languages>\n"
        " <calls_stat>\n"
        "  <period>\n"
        f"   <period_start>{moment(datetime.fromtimestamp(start, UTC), zone)}</period_start>\n"
        f"   <period_end>{moment(datetime.fromtimestamp(end, UTC), zone)}</period_end>\n"
        "  </period>\n"
        f"{calls}"
        " </calls_stat>\n"
    )
    return page(PAGENAME, body)


def routes(context: ApiContext) -> list[Route]:
    return [Route("/stats/missed_calls", page_endpoint(missed_calls_page, context),
                  methods=["GET", "POST"])]
