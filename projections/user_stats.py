"""Detailed statistics of one user's calls (`/stats/user_stats`, docs/stats_pages.md).

Everything is counted over `cdrs FINAL`, so a CDR delivered or rated twice counts once.
Incoming and outgoing are projections.call_stats's: outgoing calls are the user's own
CDRs, incoming calls the CDRs to one of the user's DIDs. A call from the user to their
own DID is both (once in each column, once in a day's count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clickhouse_driver import Client

from projections.call_stats import INCOMING_CONDITION, OUTGOING_CONDITION
from rating.disposition import DISPOSITIONS

# The user's calls, either way; needs the %(user_id)s parameter.
USER_CALLS = f"({OUTGOING_CONDITION} OR {INCOMING_CONDITION})"
PERIOD = "calldate >= toDateTime(%(start)s) AND calldate <= toDateTime(%(end)s)"


@dataclass(frozen=True, slots=True)
class DispositionCounts:
    """Calls per disposition (ANSWERED, NO ANSWER, BUSY, FAILED)."""

    answered: int = 0
    no_answer: int = 0
    busy: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class DayStats:
    day: date  # in the user's time zone
    calls: int
    billsec: int  # answered seconds, summed
    answered: int


@dataclass(frozen=True, slots=True)
class Totals:
    calls: int
    answered: int


def disposition_counts(client: Client, user_id: int, start: int,
                       end: int) -> tuple[DispositionCounts, DispositionCounts]:
    """(incoming, outgoing) calls per disposition from `start` to `end` (epoch seconds,
    inclusive)."""
    found = client.execute(
        "SELECT CAST(disposition AS String) AS kind, "
        f"countIf({INCOMING_CONDITION}), countIf({OUTGOING_CONDITION}) "
        f"FROM cdrs FINAL WHERE {USER_CALLS} AND {PERIOD} GROUP BY kind",
        {"user_id": user_id, "start": start, "end": end},
    )
    incoming = {kind: count for kind, count, _ in found}
    outgoing = {kind: count for kind, _, count in found}
    return _counts(incoming), _counts(outgoing)


def by_day(client: Client, user_id: int, start: int, end: int, zone: str) -> list[DayStats]:
    """The user's calls per day of `zone` (an IANA name) from `start` to `end`, newest
    day first; days without calls are left out."""
    found = client.execute(
        "SELECT toYYYYMMDD(calldate, %(zone)s) AS day, count(), sum(billsec), "
        "countIf(disposition = 'ANSWERED') "
        f"FROM cdrs FINAL WHERE {USER_CALLS} AND {PERIOD} GROUP BY day ORDER BY day DESC",
        {"user_id": user_id, "start": start, "end": end, "zone": zone},
    )
    return [DayStats(date(day // 10000, day // 100 % 100, day % 100), calls, billsec,
                     answered) for day, calls, billsec, answered in found]


def totals(client: Client, user_id: int, start: int, end: int) -> Totals:
    """How many calls the user had from `start` to `end`, and how many were answered."""
    found = client.execute(
        "SELECT count(), countIf(disposition = 'ANSWERED') "
        f"FROM cdrs FINAL WHERE {USER_CALLS} AND {PERIOD}",
        {"user_id": user_id, "start": start, "end": end},
    )
    return Totals(found[0][0], found[0][1])


def _counts(by_kind: dict[str, int]) -> DispositionCounts:
    answered, no_answer, busy, failed = (by_kind.get(kind, 0) for kind in DISPOSITIONS)
    return DispositionCounts(answered, no_answer, busy, failed)
