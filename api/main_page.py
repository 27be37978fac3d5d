"""The main page (`/callc/main`): missed calls, the calls of this month and today, and the
account's finances, for the logged-in user (docs/call_list.md).

Month and day are the calendar month and day of the clock in the user's time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.context import ApiContext
from api.errors import xml_response
from api.personal import amount, credit
from api.session import page_endpoint
from api.user_calls import user_zone
from api.xml import DECLARATION, duration, element
from projections.balance import balance
from projections.call_stats import MainStats, main_stats
from projections.queries import User


async def main_page(request: Request, context: ApiContext, user: User) -> Response:
    zone = user_zone(user.timezone)
    month, day = periods(context.clock(), zone)
    stats = await context.query(main_stats, user.user_id, month, day)
    current = await context.query(balance, user.user_id)
    return xml_response(render_main_page(user, stats, amount(current)))


def periods(now: datetime, zone: tzinfo) -> tuple[tuple[int, int], tuple[int, int]]:
    """[start, end) in epoch seconds of the month and of the day of `now` in `zone`."""
    today = now.astimezone(zone).date()
    first = today.replace(day=1)
    following = (date(first.year + 1, 1, 1) if first.month == 12
                 else first.replace(month=first.month + 1))
    tomorrow = date.fromordinal(today.toordinal() + 1)

    def at(day: date) -> int:
        return int(datetime.combine(day, time.min, zone).timestamp())

    return (at(first), at(following)), (at(today), at(tomorrow))


def render_main_page(user: User, stats: MainStats, balance_amount: str) -> str:
    """The page; `balance_amount` as api.personal.amount writes it."""
    return (
        f"{DECLARATION}<page>\n"
        " <pagename>Main page</pagename>\n"
        f" {element('username', user.nice_name)}\n"
        f" <userid>{user.user_id}</userid>\n"
        f" {element('language', user.language or 'en')}\n"
        " <stats>\n"
        "  <missed_calls>\n"
        f"   <missed_today>{stats.missed_today}</missed_today>\n"
        f"   <missed_total>{stats.missed_total}</missed_total>\n"
        "  </missed_calls>\n"
        "  <call_history>\n"
        f"{_calls(stats.month_calls, 'Month', stats.month_seconds)}"
        f"{_calls(stats.day_calls, 'Day', stats.day_seconds)}"
        "  </call_history>\n"
        "  <finances>\n"
        f"   {element('account', user.account_type.capitalize())}\n"
        f"   {element('balance', f'{balance_amount} {user.currency}')}\n"
        f"   {element('credit', credit(user.credit_limit))}\n"
        "  </finances>\n"
        " </stats>\n"
        "</page>\n"
    )


def _calls(count: int, period: str, seconds: int) -> str:
    return ("   <calls>\n"
            f"    <call_counts>{count}</call_counts>\n"
            f"    <period>{period}</period>\n"
            f"    <call_duration>{duration(seconds)}</call_duration>\n"
            "   </calls>\n")


def routes(context: ApiContext) -> list[Route]:
    return [Route("/callc/main", page_endpoint(main_page, context), methods=["GET", "POST"])]
