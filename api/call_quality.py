"""call_quality_get: ASR, ACD and NER per destination or per provider for a period.

cdrflow's addition to the MOR API (docs/call_quality.md), built like a MOR method:
checks run in MOR's order (`api.access.api_caller`: API allowed, client IP, the caller
`u`, the hash, the permission group), then `s_user` (existence and visibility), then the
other parameters in documented order. Counted over `cdrs FINAL` (projections.call_quality).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import api_caller, can_see
from api.context import ApiContext
from api.errors import ApiError, ErrorKind, mor_endpoint, xml_response
from api.params import Params, read_params, seconds_param
from api.user_calls import user_zone
from api.xml import DECLARATION, escape, moment
from projections.call_quality import GROUPS, Counts, Scope, quality, totals
from projections.queries import User

METHOD = "call_quality_get"
HASHED = ("s_user", "period_start", "period_end", "group_by")
PRIVILEGED = ("admin", "accountant")  # see every user's calls and the providers
CENT = Decimal("0.01")
_DIGITS = re.compile(r"[0-9]{1,20}")


async def call_quality_get(request: Request, context: ApiContext) -> Response:
    params = await read_params(request, allow_get=context.settings.allow_get_api)
    client_ip = request.client.host if request.client else None
    caller = await api_caller(context, params, METHOD, HASHED, client_ip=client_ip)
    scope = await shown_scope(context, caller, params.get("s_user"))
    zone = user_zone(caller.timezone)
    start, end, group_by = read_period_and_group(params, caller, zone, context.clock())
    rows = await context.query(quality, group_by, scope, start, end)
    return xml_response(render(start, end, zone, params.get("s_user") or "all", group_by,
                               rows))


async def shown_scope(context: ApiContext, caller: User, s_user: str | None) -> Scope:
    """Whose calls count. Absent or `all`: every call the caller may see (admin and
    accountant: everyone's; reseller: their own and their users'; user: their own).
    A user id: that user's, if the caller may see them (`can_see`)."""
    if s_user is None or s_user.lower() == "all":
        if caller.role in PRIVILEGED:
            return Scope()
        if caller.role == "reseller":
            return Scope(reseller_id=caller.user_id)
        return Scope(user_id=caller.user_id)
    target = None
    if _DIGITS.fullmatch(s_user):
        target = await context.blocking(context.read().user_by_id, int(s_user))
    if target is None or not can_see(caller, target):
        raise ApiError(ErrorKind.USER_NOT_FOUND)
    return Scope(user_id=target.user_id)


def read_period_and_group(params: Params, caller: User, zone: tzinfo,
                          now: datetime) -> tuple[int, int, str]:
    """`period_start`, `period_end` (epoch seconds; default today 00:00:00 and 23:59:59 in
    `zone`) and `group_by` (`destination` or `provider`, any letter case; default
    `destination`), checked in that order. Grouping by provider is the admin's and the
    accountant's: providers are not shown to resellers and users."""
    today = now.astimezone(zone).date()
    start = timestamp(params, "period_start", datetime.combine(today, time.min, zone))
    end = timestamp(params, "period_end", datetime.combine(today, time(23, 59, 59), zone))
    group_by = (params.get("group_by") or GROUPS[0]).lower()
    if group_by not in GROUPS:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "group_by")
    if group_by == "provider" and caller.role not in PRIVILEGED:
        raise ApiError(ErrorKind.NOT_AUTHORIZED)
    return start, end, group_by


def timestamp(params: Params, name: str, default: datetime) -> int:
    """Epoch seconds (ASCII digits, up to MAX_TIMESTAMP); absent or empty: `default`."""
    found = seconds_param(params, name)
    return int(default.timestamp()) if found is None else found


def percent(part: int, whole: int) -> str:
    """`part` in percent of `whole`, two decimals, rounded half up; "0.00" when whole is 0."""
    if whole <= 0:
        return "0.00"
    return str((Decimal(part * 100) / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP))


def average(total: int, count: int) -> str:
    """`total` / `count`, two decimals, rounded half up; "0.00" when count is 0."""
    if count <= 0:
        return "0.00"
    return str((Decimal(total) / Decimal(count)).quantize(CENT, rounding=ROUND_HALF_UP))


def asr(counts: Counts) -> str:
    """Answer-seizure ratio: answered calls per 100 attempts."""
    return percent(counts.answered, counts.attempts)


def acd(counts: Counts) -> str:
    """Average call duration: answered seconds per answered call."""
    return average(counts.billsec, counts.answered)


def ner(counts: Counts) -> str:
    """Network effectiveness ratio: calls not failed in the network per 100 attempts."""
    return percent(counts.effective, counts.attempts)


def render(start: int, end: int, zone: tzinfo, user: str, group_by: str,
           rows: list[Counts]) -> str:
    listed = "".join(
        f"   <row>\n{_figures(row, '    ', named=True, provider=group_by == 'provider')}"
        "   </row>\n" for row in rows)
    body = f"  <rows>\n{listed}  </rows>\n" if listed else "  <rows></rows>\n"
    return (
        f"{DECLARATION}<page>\n <call_quality>\n"
        "  <period>\n"
        f"   <start>{moment(datetime.fromtimestamp(start, UTC), zone)}</start>\n"
        f"   <end>{moment(datetime.fromtimestamp(end, UTC), zone)}</end>\n"
        "  </period>\n"
        f"  <user>{escape(user)}</user>\n"
        f"  <group_by>{group_by}</group_by>\n"
        f"{body}"
        f"  <totals>\n{_figures(totals(rows), '   ')}  </totals>\n"
        " </call_quality>\n</page>\n"
    )


def _figures(counts: Counts, indent: str, *, named: bool = False,
             provider: bool = False) -> str:
    lines = []
    if provider:
        lines.append(f"<provider_id>{counts.provider_id}</provider_id>")
    if named:
        lines.append(f"<name>{escape(counts.name)}</name>")
    lines += [
        f"<attempts>{counts.attempts}</attempts>",
        f"<answered>{counts.answered}</answered>",
        f"<billsec>{counts.billsec}</billsec>",
        f"<asr>{asr(counts)}</asr>",
        f"<acd>{acd(counts)}</acd>",
        f"<ner>{ner(counts)}</ner>",
    ]
    return "".join(f"{indent}{line}\n" for line in lines)


def routes(context: ApiContext) -> list[Route]:
    endpoint = mor_endpoint(partial(call_quality_get, context=context))
    return [Route(f"/billing/api/{METHOD}", endpoint, methods=["GET", "POST"])]
