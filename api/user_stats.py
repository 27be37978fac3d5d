"""The Detailed statistics page (MOR's Graphs): `/stats/user_stats`, and
`/billing/stats/user_stats` for its "Change dates" POST (docs/stats_pages.md).

`period_start` and `period_end` are `YYYY-MM-DD` or epoch seconds (default: today in
the user's time zone); `userid` names another user's page, shown if `can_see`. cdrflow
has no norms: each "normative" is the percent of answered calls (today's, this month's,
that day's), and `new_calls` the missed calls of the period not processed yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import page_owner_param
from api.context import ApiContext
from api.errors import xml_response
from api.pages import page
from api.params import read_params
from api.period import period
from api.session import page_endpoint
from api.user_calls import user_zone
from api.xml import money
from projections.missed_calls import unprocessed_count
from projections.queries import User
from projections.user_stats import (
    DayStats,
    DispositionCounts,
    Totals,
    by_day,
    disposition_counts,
    totals,
)

PAGENAME = "Detailed statistics"
CENT = Decimal("0.01")


async def user_stats(request: Request, context: ApiContext, user: User) -> Response:
    params = await read_params(request, allow_get=True)
    owner = await page_owner_param(context, user, params)
    zone = user_zone(owner.timezone)
    now = context.clock()
    start, end = period(params, zone, now)
    today = now.astimezone(zone).date()
    day_start = _at(today, time.min, zone)
    day_end = _at(today, time(23, 59, 59), zone)
    month_start = _at(today.replace(day=1), time.min, zone)
    incoming, outgoing = await context.query(disposition_counts, owner.user_id, start, end)
    days = await context.query(by_day, owner.user_id, start, end, zone.key)
    main = Main(
        todays_normative=percent(await context.query(totals, owner.user_id, day_start,
                                                     day_end)),
        months_normative=percent(await context.query(totals, owner.user_id, month_start,
                                                     day_end)),
        new_calls=await context.query(unprocessed_count, owner.user_id, start, end),
    )
    shown = (_day(start, zone), _day(end, zone))
    return xml_response(render(owner.user_id, shown, main, incoming, outgoing, days))


@dataclass(frozen=True, slots=True)
class Main:
    """The `main_details` figures."""

    todays_normative: int
    months_normative: int
    new_calls: int


def render(user_id: int, shown: tuple[date, date], main: Main, incoming: DispositionCounts,
           outgoing: DispositionCounts, days: list[DayStats]) -> str:
    rows = "".join(
        "   <call_by_date>\n"
        f"    <date>{day.day.isoformat()}</date>\n"
        f"    <calls_count>{day.calls}</calls_count>\n"
        f"    <duration>{minutes(day.billsec)}</duration>\n"
        f"    <avg_time>{minutes(day.billsec, day.answered)}</avg_time>\n"
        f"    <calls_normative>{percent(Totals(day.calls, day.answered))}</calls_normative>\n"
        "   </call_by_date>\n"
        for day in days
    )
    by_date = (f"  <detailed_by_date>\n{rows}  </detailed_by_date>\n" if rows
               else "  <detailed_by_date></detailed_by_date>\n")
    body = (
        f" <start_date>{shown[0].isoformat()}</start_date>\n"
        f" <end_date>{shown[1].isoformat()}</end_date>\n"
        " <details>\n"
        "  <main_details>\n"
        f"   <todays_normative>{main.todays_normative}</todays_normative>\n"
        f"   <months_normative>{main.months_normative}</months_normative>\n"
        f"   <new_calls>{main.new_calls}</new_calls>\n"
        "  </main_details>\n"
        "  <calls>\n"
        f"{_counts('incoming', incoming)}"
        f"{_counts('outgoing', outgoing)}"
        "  </calls>\n"
        f"{by_date}"
        " </details>\n"
    )
    return page(PAGENAME, body, user_id=user_id)


def _counts(name: str, counts: DispositionCounts) -> str:
    return (
        f"   <{name}>\n"
        f"    <answered>{counts.answered}</answered>\n"
        f"    <no_answer>{counts.no_answer}</no_answer>\n"
        f"    <busy>{counts.busy}</busy>\n"
        f"    <failed>{counts.failed}</failed>\n"
        f"   </{name}>\n"
    )


def minutes(seconds: int, calls: int = 1) -> str:
    """Seconds (per call, when `calls` is given) in minutes to the hundredth, rounded half
    up, shown as money is: 90 -> "1.5", 100 -> "1.67", 0 -> "0.0"; no calls -> "0.0"."""
    if calls <= 0:
        return money(Decimal(0))
    value = (Decimal(seconds) / 60 / calls).quantize(CENT, rounding=ROUND_HALF_UP)
    return money(value)


def percent(found: Totals) -> int:
    """The answered calls in whole percent, rounded half up; 0 without calls."""
    if found.calls <= 0:
        return 0
    value = Decimal(found.answered * 100) / found.calls
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _at(day: date, at: time, zone: tzinfo) -> int:
    return int(datetime.combine(day, at, zone).timestamp())


def _day(epoch: int, zone: tzinfo) -> date:
    return datetime.fromtimestamp(epoch, UTC).astimezone(zone).date()


def routes(context: ApiContext) -> list[Route]:
    endpoint = page_endpoint(user_stats, context)
    both = ["GET", "POST"]
    return [Route("/stats/user_stats", endpoint, methods=both),
            Route("/billing/stats/user_stats", endpoint, methods=both)]
