"""The `<page>` that user_calls_get answers, laid out byte for byte as MOR's example."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from api.xml import DECLARATION, escape, moment, money, seconds
from projections.queries import Call, User


@dataclass(frozen=True, slots=True)
class Shown:
    """The filters echoed in `<calls_stat>`, as the client gave them (or `all`)."""

    user: str
    device: str = "all"
    status: str = "all"
    provider: str = "all"
    hgc: str = "all"
    did: str = "all"


@dataclass(frozen=True, slots=True)
class CallsPage:
    caller: User
    currency: str
    period_start: str
    period_end: str
    shown: Shown
    calls: Sequence[Call]
    zone: tzinfo
    users: Mapping[int, User]  # call users and resellers by id


def render_calls_page(page: CallsPage) -> str:
    """The whole page in one string (user_calls_get streams the same bytes in parts)."""
    names = display_names(page.users)
    rows = "".join(render_call(call, page.zone, names) for call in page.calls)
    return render_head(page, len(page.calls)) + calls_block(rows, bool(page.calls)) + TAIL


def render_head(page: CallsPage, total: int) -> str:
    """Everything before the calls; `page.calls` is not read."""
    shown = page.shown
    return (
        f"{DECLARATION}"
        "<page>\n"
        " <pagename>Calls</pagename>\n"
        " <language>en</language>\n"
        " <error_msg></error_msg>\n"
        f" <userid>{page.caller.user_id}</userid>\n"
        f" <username>{escape(page.caller.username)}</username>\n"
        f" <total_calls>{total}</total_calls>\n"
        f" <currency>{escape(page.currency)}</currency>\n"
        " <calls_stat>\n"
        "   <period>\n"
        f"     <period_start>{escape(page.period_start)}</period_start>\n"
        f"     <period_end>{escape(page.period_end)}</period_end>\n"
        "   </period>\n"
        f"   <show_user>{escape(shown.user)}</show_user>\n"
        f"   <show_device>{escape(shown.device)}</show_device>\n"
        f"   <show_status>{escape(shown.status)}</show_status>\n"
        f"   <show_provider>{escape(shown.provider)}</show_provider>\n"
        f"   <show_hgc>{escape(shown.hgc)}</show_hgc>\n"
        f"   <show_did>{escape(shown.did)}</show_did>\n"
    )


CALLS_OPEN = "   <calls>\n"
CALLS_CLOSE = "   </calls>\n"
NO_CALLS = "   <calls></calls>\n"
TAIL = " </calls_stat>\n</page>\n"


def calls_block(rows: str, any_calls: bool) -> str:
    return f"{CALLS_OPEN}{rows}{CALLS_CLOSE}" if any_calls else NO_CALLS


def display_names(users: Mapping[int, User]) -> dict[int, str]:
    """The `<user>` / `<nice_reseller>` text of each user, escaped."""
    return {user_id: escape(user.nice_name) for user_id, user in users.items()}


def render_call(call: Call, zone: tzinfo, names: Mapping[int, str]) -> str:
    """One `<call>`; `names` as `display_names` gives them (an unknown user shows empty)."""
    (_, calldate, _, user_id, src, dst, clid, disposition, hangup_cause, billsec, prefix,
     destination, server_id, did, did_inc_price, did_price, did_prov_price, provider_name,
     provider_rate, provider_price, reseller_id, reseller_rate, reseller_price, user_rate,
     user_price, profit) = call  # fmt: skip
    texts = (src, dst, clid, disposition, prefix, destination, did, provider_name)
    if escape(plain := "".join(texts)) != plain:  # unchanged as a whole: unchanged each
        src, dst, clid, disposition, prefix, destination, did, provider_name = map(escape, texts)
    return (
        "     <call>\n"
        f"       <calldate2>{moment(calldate, zone)}</calldate2>\n"
        f"       <clid>{clid}</clid>\n"
        f"       <destination>{destination}</destination>\n"
        f"       <did>{did}</did>\n"
        f"       <did_inc_price>{money(did_inc_price)}</did_inc_price>\n"
        f"       <did_price>{money(did_price)}</did_price>\n"
        f"       <did_prov_price>{money(did_prov_price)}</did_prov_price>\n"
        f"       <dispod>{disposition}({hangup_cause})</dispod>\n"
        f"       <dst>{dst}</dst>\n"
        f"       <nice_billsec>{seconds(billsec)}</nice_billsec>\n"
        f"       <nice_reseller>{names.get(reseller_id, '') if reseller_id else ''}"
        "</nice_reseller>\n"
        f"       <prefix>{prefix}</prefix>\n"
        f"       <profit>{money(profit)}</profit>\n"
        f"       <provider_name>{provider_name}</provider_name>\n"
        f"       <provider_price>{money(provider_price)}</provider_price>\n"
        f"       <provider_rate>{money(provider_rate)}</provider_rate>\n"
        f"       <reseller_price>{money(reseller_price)}</reseller_price>\n"
        f"       <reseller_rate>{money(reseller_rate)}</reseller_rate>\n"
        f"       <server_id>{server_id}</server_id>\n"
        f"       <src>{src}</src>\n"
        f"       <user>{names.get(user_id, '')}</user>\n"
        f"       <user_price>{money(user_price)}</user_price>\n"
        f"       <user_rate>{money(user_rate)}</user_rate>\n"
        "     </call>\n"
    )
