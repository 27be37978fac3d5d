"""Call statistics over `cdrs FINAL`: the main page's counts, the call list (docs/call_list.md).

Directions (cdrflow's CDR is the caller's; a DID call names the DID it came in through):
outgoing calls of user U are the CDRs with `user_id = U`; incoming calls are the CDRs whose
`did` is one of U's DIDs (`dids FINAL`, owner `user_id = U`). A missed call is an incoming
call that was not answered: `MISSED_CONDITION`, shared with /stats/missed_calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from clickhouse_driver import Client

# The DIDs a user owns, as of their last did_created event. Needs the %(user_id)s parameter.
# Owner 0 marks a free DID (docs/callflow.md), so user 0 (the admin) owns none.
USER_DIDS = "(SELECT did FROM dids FINAL WHERE user_id = %(user_id)s AND user_id != 0)"
INCOMING_CONDITION = f"did IN {USER_DIDS}"
OUTGOING_CONDITION = "user_id = %(user_id)s"
# A missed call of the user: to one of their DIDs and not answered. SQL over `cdrs FINAL`
# needing the %(user_id)s parameter, e.g.
#   SELECT count() FROM cdrs FINAL WHERE {MISSED_CONDITION}
MISSED_CONDITION = f"({INCOMING_CONDITION} AND disposition != 'ANSWERED')"


def missed_condition() -> str:
    """The SQL condition of a missed call of the user named by %(user_id)s."""
    return MISSED_CONDITION


DIRECTIONS = ("all", "outgoing", "incoming")
UINT32_MAX = 2**32 - 1
# Rows per page of a streamed list: each page is one query, so a list of any length is
# read in bounded memory, a pooled client held only while one page is read.
PAGE_ROWS = 5000
_LIST_COLUMNS = (
    "toUInt32(calldate), calldate_ms, call_id, user_id, src, dst, destination, "
    "CAST(disposition AS String), billsec, "
    # what the call cost the shown user: their price for their calls, the DID owner's
    # price for calls to their DIDs
    "toString(if(user_id = %(user_id)s, user_price, did_price))"
)
_ORDER = "calldate, calldate_ms, call_id, user_id"
_AFTER = (
    "(calldate > toDateTime(%(a_date)s) OR (calldate = toDateTime(%(a_date)s) AND "
    "(calldate_ms > %(a_ms)s OR (calldate_ms = %(a_ms)s AND "
    "(call_id > %(a_id)s OR (call_id = %(a_id)s AND user_id > %(a_user)s))))))"
)


@dataclass(frozen=True, slots=True)
class CallListFilter:
    """One user's calls in [start, end] (epoch seconds, inclusive)."""

    user_id: int
    start: int
    end: int
    direction: str = "all"  # one of DIRECTIONS
    disposition: str | None = None  # ANSWERED, NO ANSWER, BUSY, FAILED; None: any
    device_id: int | None = None  # only the user's own calls from this device


@dataclass(frozen=True, slots=True)
class ListedCall:
    calldate: datetime  # aware, UTC
    calldate_ms: int
    call_id: str
    user_id: int
    src: str
    dst: str
    destination: str
    disposition: str
    billsec: int
    price: Decimal  # in the shown user's currency


@dataclass(frozen=True, slots=True)
class MainStats:
    missed_today: int
    missed_total: int
    month_calls: int
    month_seconds: int
    day_calls: int
    day_seconds: int


def direction_condition(direction: str) -> str:
    """The SQL condition of a direction (DIRECTIONS) of the user named by %(user_id)s."""
    if direction == "outgoing":
        return OUTGOING_CONDITION
    if direction == "incoming":
        return INCOMING_CONDITION
    if direction == "all":
        return f"({OUTGOING_CONDITION} OR {INCOMING_CONDITION})"
    raise ValueError(f"unknown direction {direction!r}")


def list_where(where: CallListFilter) -> tuple[str, dict[str, Any]]:
    """The WHERE text (no keyword) and parameters of a call list."""
    conditions = [
        direction_condition(where.direction),
        "calldate >= toDateTime(%(start)s)",
        "calldate <= toDateTime(%(end)s)",
    ]
    params: dict[str, Any] = {"user_id": where.user_id, "start": _clamp(where.start),
                              "end": _clamp(where.end)}
    if where.disposition is not None:
        conditions.append("CAST(disposition AS String) = %(disposition)s")
        params["disposition"] = where.disposition
    if where.device_id is not None:
        conditions.append(f"{OUTGOING_CONDITION} AND device_id = %(device_id)s")
        params["device_id"] = where.device_id
    return " AND ".join(conditions), params


def count_calls(client: Client, where: CallListFilter) -> int:
    """How many calls the list holds (each call once: FINAL)."""
    condition, params = list_where(where)
    rows = client.execute(f"SELECT count() FROM cdrs FINAL WHERE {condition}", params)
    return int(rows[0][0]) if rows else 0


def call_page(client: Client, where: CallListFilter, after: ListedCall | None = None,
              limit: int = PAGE_ROWS) -> list[ListedCall]:
    """Up to `limit` calls of the list after `after` (None: from the first), oldest first.

    Keyset paging on (calldate, calldate_ms, call_id, user_id): a page never repeats or
    skips a call, however many pages the list takes."""
    condition, params = list_where(where)
    if after is not None:
        condition = f"{condition} AND {_AFTER}"
        params.update(a_date=int(after.calldate.timestamp()), a_ms=after.calldate_ms,
                      a_id=after.call_id, a_user=after.user_id)
    params["limit"] = limit
    rows = client.execute(
        f"SELECT {_LIST_COLUMNS} FROM cdrs FINAL WHERE {condition} "
        f"ORDER BY {_ORDER} LIMIT %(limit)s", params)
    return [_listed(row) for row in rows]


def main_stats(client: Client, user_id: int, month: tuple[int, int],
               day: tuple[int, int]) -> MainStats:
    """The main page's numbers. `month` and `day` are [start, end) in epoch seconds, the
    day inside the month.

    Missed: MISSED_CONDITION, today and ever. Calls: the user's answered calls, made or
    received, and their answered seconds (billsec), this month and today.

    Read in parts that the table's keys serve: the user's own calls by `user_id` and the
    month's partition; calls to the user's DIDs only when the user has DIDs (most have
    none), a call to one's own DID counted once."""
    params: dict[str, Any] = {
        "user_id": user_id, "m_start": _clamp(month[0]), "m_end": _clamp(month[1]),
        "d_start": _clamp(day[0]), "d_end": _clamp(day[1])}
    in_day = "calldate >= toDateTime(%(d_start)s) AND calldate < toDateTime(%(d_end)s)"
    answered = (f"SELECT count(), sum(billsec), countIf({in_day}), sumIf(billsec, {in_day}) "
                "FROM cdrs FINAL WHERE calldate >= toDateTime(%(m_start)s) "
                "AND calldate < toDateTime(%(m_end)s) AND disposition = 'ANSWERED' AND ")
    made = client.execute(answered + OUTGOING_CONDITION, params)[0]
    dids = tuple(row[0] for row in client.execute(USER_DIDS[1:-1], params))
    if not dids:
        month_calls, month_seconds, day_calls, day_seconds = (int(v) for v in made)
        return MainStats(0, 0, month_calls, month_seconds, day_calls, day_seconds)
    params["dids"] = dids
    received = client.execute(answered + "did IN %(dids)s AND user_id != %(user_id)s",
                              params)[0]
    missed = client.execute(
        f"SELECT countIf({in_day}), count() FROM cdrs FINAL "
        "WHERE did IN %(dids)s AND disposition != 'ANSWERED'", params)[0]
    month_calls, month_seconds, day_calls, day_seconds = (
        int(a) + int(b) for a, b in zip(made, received, strict=True))
    return MainStats(int(missed[0]), int(missed[1]), month_calls, month_seconds, day_calls,
                     day_seconds)


def _clamp(seconds: int) -> int:
    return min(max(seconds, 0), UINT32_MAX)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _listed(row: tuple[Any, ...]) -> ListedCall:
    calldate, ms, call_id, user_id, src, dst, destination, disposition, billsec, price = row
    return ListedCall(
        calldate=datetime.fromtimestamp(int(calldate), UTC), calldate_ms=int(ms),
        call_id=_text(call_id), user_id=int(user_id), src=_text(src), dst=_text(dst),
        destination=_text(destination), disposition=_text(disposition),
        billsec=int(billsec), price=Decimal(_text(price)),
    )
