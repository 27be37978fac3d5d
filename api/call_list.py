"""The call list: `/stats/call_list` (GET: today; POST: "Change period"), its exports
`/stats/call_list_to_csv/<user id>` and `/stats/call_list_to_pdf/<user id>`, and
`/stats/new_calls_list` (the calls of the last 24 hours). docs/call_list.md.

A user sees their own calls; a reseller also their users', admins and accountants
everyone's (`can_see`). Lists are read from `cdrs FINAL` a page at a time
(projections.call_stats.call_page) and streamed, so a long period needs bounded memory.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from api.access import page_owner, page_owner_param
from api.call_list_pdf import render_call_list_pdf
from api.context import ApiContext
from api.errors import MEDIA_TYPE, ApiError, ErrorKind, xml_response
from api.pages import LANGUAGES
from api.params import UINT64_MAX, Params, read_params
from api.period import period
from api.session import page_endpoint
from api.user_calls import user_zone
from api.xml import DECLARATION, duration, escape, hangup_word, moment, money
from projections.call_stats import (
    DIRECTIONS,
    PAGE_ROWS,
    CallListFilter,
    ListedCall,
    call_page,
    count_calls,
)
from projections.queries import User
from rating.disposition import ANSWERED, BUSY, FAILED, NO_ANSWER

# calltype values that pick a disposition (MOR's "status"); "all": any
STATUSES = {"answered": ANSWERED, "no answer": NO_ANSWER, "no_answer": NO_ANSWER,
            "busy": BUSY, "failed": FAILED}
NEW_CALLS_HOURS = 24
MAX_PDF_ROWS = 10_000  # reportlab holds the whole table; the PDF says when it stops short
CSV_HEADER = ("date", "called_from", "called_to", "destination", "duration", "hangup_cause",
              "price", "currency")
EMPTY_CALLS = "  <calls></calls>\n"
LIST_TAIL = " </calls_stat>\n</page>\n"
_DIGITS = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True, slots=True)
class Names:
    """The parameter names of one form: the page's or the exports'."""

    start: str
    end: str
    calltype: str


PAGE_NAMES = Names("period_start", "period_end", "calltype")
EXPORT_NAMES = Names("date_from", "date_till", "call_type")


@dataclass(frozen=True, slots=True)
class Shown:
    """What the page echoes: show_device, status, direction."""

    device: str = "all"
    status: str = "all"
    direction: str = "all"


def list_filter(params: Params, user_id: int, zone: tzinfo, now: datetime,
                names: Names = PAGE_NAMES) -> tuple[CallListFilter, Shown]:
    """The list's filter from a form (checked in the spec's order: search_on, period_start,
    period_end, direction, calltype, device) and what the page echoes.

    `calltype` takes a direction (outgoing, incoming, all: the spec's words) or a status
    (answered, no answer, busy, failed); a direction there must agree with `direction`."""
    start, end = period(params, zone, now, names.start, names.end)
    direction = (params.get("direction") or "all").lower()
    if direction not in DIRECTIONS:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "direction")
    calltype = (params.get(names.calltype) or "all").lower()
    status = "all"
    if calltype in DIRECTIONS:
        if calltype != "all":
            if direction not in ("all", calltype):
                raise ApiError(ErrorKind.INVALID_PARAMETER, names.calltype)
            direction = calltype
    elif calltype in STATUSES:
        status = calltype.replace("_", " ")
    else:
        raise ApiError(ErrorKind.INVALID_PARAMETER, names.calltype)
    device = params.get("device") or "all"
    device_id: int | None = None
    if device.lower() != "all":
        if not _DIGITS.fullmatch(device) or int(device) > UINT64_MAX:
            raise ApiError(ErrorKind.INVALID_PARAMETER, "device")
        device_id = int(device)
    where = CallListFilter(user_id=user_id, start=start, end=end, direction=direction,
                           disposition=STATUSES.get(status), device_id=device_id)
    return where, Shown("all" if device_id is None else str(device_id), status, direction)


def head(pagename: str, user_id: int) -> str:
    """The list pages' head: error_msg before userid, unlike api.pages.page."""
    return (f"{DECLARATION}<page>\n <pagename>{escape(pagename)}</pagename>\n"
            " <language>en</language>\n <error_msg></error_msg>\n"
            f" <userid>{user_id}</userid>\n")


def list_head(owner: User, where: CallListFilter, shown: Shown, total: int,
              zone: tzinfo) -> str:
    languages = "".join(f"  <language>{escape(language)}</language>\n"
                        for language in LANGUAGES)
    return (
        f"{head('Calls', owner.user_id)}"
        f" <show_device>{escape(shown.device)}</show_device>\n"
        f" <status>{escape(shown.status)}</status>\n"
        f" <direction>{escape(shown.direction)}</direction>\n"
        f" <total_calls>{total}</total_calls>\n"
        f" <username>{escape(owner.nice_name)}</username>\n"
        f" <currency>{escape(owner.currency)}</currency>\n"
        f" <aval_languages>\n{languages} </aval_languages>\n"
        " <calls_stat>\n"
        "  <period>\n"
        f"   <period_start>{_moment(where.start, zone)}</period_start>\n"
        f"   <period_end>{_moment(where.end, zone)}</period_end>\n"
        "  </period>\n"
    )


def call_xml(call: ListedCall, zone: tzinfo) -> str:
    return (
        "   <call>\n"
        f"    <date>{moment(call.calldate, zone)}</date>\n"
        f"    <called_from>{escape(call.src)}</called_from>\n"
        f"    <called_to>{escape(call.dst)}</called_to>\n"
        f"    <destination>{escape(call.destination)}</destination>\n"
        f"    <duration>{duration(call.billsec)}</duration>\n"
        f"    <hangup_cause>{escape(hangup_word(call.disposition))}</hangup_cause>\n"
        f"    <price>{money(call.price)}</price>\n"
        "   </call>\n"
    )


def new_call_xml(call: ListedCall, zone: tzinfo) -> str:
    return (
        "   <call>\n"
        f"    <date>{moment(call.calldate, zone)}</date>\n"
        f"    <called_from>{escape(call.src)}</called_from>\n"
        f"    <called_to>{escape(call.dst)}</called_to>\n"
        f"    <duration>{duration(call.billsec)}</duration>\n"
        f"    <hangup_cause>{escape(hangup_word(call.disposition))}</hangup_cause>\n"
        "   </call>\n"
    )


def render_call_list(owner: User, where: CallListFilter, shown: Shown,
                     calls: Iterable[ListedCall], total: int, zone: tzinfo) -> str:
    """The whole page at once; the endpoint streams the same pieces."""
    rows = "".join(call_xml(call, zone) for call in calls)
    listed = f"  <calls>\n{rows}  </calls>\n" if total else EMPTY_CALLS
    return f"{list_head(owner, where, shown, total, zone)}{listed}{LIST_TAIL}"


def csv_row(call: ListedCall, zone: tzinfo, currency: str) -> tuple[str, ...]:
    return (moment(call.calldate, zone), call.src, call.dst, call.destination,
            duration(call.billsec), hangup_word(call.disposition), money(call.price), currency)


def csv_text(rows: Iterable[tuple[str, ...]]) -> str:
    """CSV lines (CRLF) of rows, as the export writes them."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


async def call_list(request: Request, context: ApiContext, user: User) -> Response:
    params = await read_params(request, allow_get=True)
    owner = await page_owner_param(context, user, params)
    zone = user_zone(owner.timezone)
    where, shown = list_filter(params, owner.user_id, zone, context.clock())
    total = await context.query(count_calls, where)

    async def pieces() -> AsyncIterator[bytes]:
        yield list_head(owner, where, shown, total, zone).encode()
        if not total:
            yield (EMPTY_CALLS + LIST_TAIL).encode()
            return
        yield b"  <calls>\n"
        async for chunk in _chunks(context, where):
            yield "".join(call_xml(call, zone) for call in chunk).encode()
        yield ("  </calls>\n" + LIST_TAIL).encode()

    return StreamingResponse(pieces(), media_type=MEDIA_TYPE)


async def new_calls_list(request: Request, context: ApiContext, user: User) -> Response:
    zone = user_zone(user.timezone)
    start, end = new_calls_window(context.clock())
    where = CallListFilter(user_id=user.user_id, start=start, end=end)
    found = [call async for chunk in _chunks(context, where) for call in chunk]
    return xml_response(render_new_calls(user, found, zone))


def render_new_calls(user: User, calls: list[ListedCall], zone: tzinfo) -> str:
    rows = "".join(new_call_xml(call, zone) for call in calls)
    listed = f"  <calls>\n{rows}  </calls>\n" if rows else EMPTY_CALLS
    return (f"{head('Calls', user.user_id)} <calls_stat>\n"
            f"  <total_calls>{len(calls)}</total_calls>\n{listed}{LIST_TAIL}")


async def call_list_csv(request: Request, context: ApiContext, user: User) -> Response:
    owner, where, zone = await _export(request, context, user)

    async def lines() -> AsyncIterator[bytes]:
        yield csv_text([CSV_HEADER]).encode()
        async for chunk in _chunks(context, where):
            yield csv_text(csv_row(call, zone, owner.currency) for call in chunk).encode()

    return StreamingResponse(lines(), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="calls_{owner.user_id}.csv"'})


async def call_list_pdf(request: Request, context: ApiContext, user: User) -> Response:
    owner, where, zone = await _export(request, context, user)
    total = await context.query(count_calls, where)
    rows: list[tuple[str, ...]] = []
    async for chunk in _chunks(context, where, limit=MAX_PDF_ROWS):
        rows.extend(csv_row(call, zone, owner.currency) for call in chunk)
    body = await run_in_threadpool(
        render_call_list_pdf, rows, user_name=owner.nice_name, currency=owner.currency,
        period=(_moment(where.start, zone), _moment(where.end, zone)), total=total,
        generated=context.clock(), zone=zone)
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="calls_{owner.user_id}.pdf"'})


async def _export(request: Request, context: ApiContext,
                  user: User) -> tuple[User, CallListFilter, tzinfo]:
    params = await read_params(request, allow_get=True)
    owner = await page_owner(context, user, request.path_params["user_id"])
    zone = user_zone(owner.timezone)
    where, _ = list_filter(params, owner.user_id, zone, context.clock(), EXPORT_NAMES)
    return owner, where, zone


async def _chunks(context: ApiContext, where: CallListFilter,
                  limit: int | None = None) -> AsyncIterator[list[ListedCall]]:
    """The list a page of PAGE_ROWS at a time (at most `limit` calls when given)."""
    after: ListedCall | None = None
    left = limit
    while left is None or left > 0:
        size = PAGE_ROWS if left is None else min(PAGE_ROWS, left)
        chunk = await context.query(call_page, where, after, size)
        if chunk:
            yield chunk
        if len(chunk) < size:
            return
        after = chunk[-1]
        if left is not None:
            left -= len(chunk)


def _moment(epoch: int, zone: tzinfo) -> str:
    return moment(datetime.fromtimestamp(epoch, UTC), zone)


def new_calls_window(now: datetime) -> tuple[int, int]:
    """[start, end] of the new calls: the last NEW_CALLS_HOURS hours up to `now`."""
    end = int(now.timestamp())
    return int((now - timedelta(hours=NEW_CALLS_HOURS)).timestamp()), end


def routes(context: ApiContext) -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route("/stats/call_list", page_endpoint(call_list, context), methods=both),
        Route("/stats/call_list_to_csv/{user_id:int}", page_endpoint(call_list_csv, context),
              methods=both),
        Route("/stats/call_list_to_pdf/{user_id:int}", page_endpoint(call_list_pdf, context),
              methods=both),
        Route("/stats/new_calls_list", page_endpoint(new_calls_list, context), methods=both),
    ]
