"""Call quality counts (ASR, ACD, NER) per destination or per provider over `cdrs FINAL`.

Counted over `cdrs FINAL`, so a CDR delivered or rated twice counts once. The formulas
and the NER cause list are documented in docs/call_quality.md; the API method that
shows them is api/call_quality.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clickhouse_driver import Client

from rating.disposition import CALL_REJECTED, USER_BUSY

GROUPS = ("destination", "provider")
# Q.850 causes of a call the user side ended (GSMA IR.42's effective outcomes: user busy,
# ring no answer, terminal reject): 17 user busy, 18 no user responding, 19 no answer
# from user (user alerted), 20 subscriber absent, 21 call rejected. An unanswered call
# whose disposition is ANSWERED, BUSY or NO ANSWER was delivered too; any other FAILED
# call failed in the network and counts against NER.
USER_SIDE_CAUSES = (USER_BUSY, 18, 19, 20, CALL_REJECTED)
ANSWERED = "disposition = 'ANSWERED'"
EFFECTIVE = ("(disposition != 'FAILED' OR hangup_cause IN ("
             + ", ".join(str(cause) for cause in USER_SIDE_CAUSES) + "))")
UINT32_MAX = 2**32 - 1  # DateTime's last second
PERIOD = "calldate >= toDateTime(%(start)s) AND calldate <= toDateTime(%(end)s)"


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose calls count: one user's (`user_id`), a reseller's own and their users'
    (`reseller_id`), or everyone's (both None)."""

    user_id: int | None = None
    reseller_id: int | None = None


@dataclass(frozen=True, slots=True)
class Counts:
    """The calls of one destination or provider (or of all of them: the totals)."""

    name: str  # destination name, provider name; "" for the totals
    provider_id: int  # 0 unless grouped by provider
    attempts: int  # every CDR
    answered: int  # disposition ANSWERED
    billsec: int  # answered seconds, summed over the answered calls
    effective: int  # not failed in the network (NER's numerator)


def quality(client: Client, group_by: str, scope: Scope, start: int,
            end: int) -> list[Counts]:
    """Counts per destination (by name) or per provider (by id; named by the CDRs'
    latest `provider_name`) of the calls from `start` to `end` (epoch seconds,
    inclusive), the most attempts first, then by name and id."""
    if group_by not in GROUPS:
        raise ValueError(f"unknown grouping {group_by!r}")
    where, values = _where(scope, start, end)
    if group_by == "destination":
        key, name = "destination AS key", "destination"
    else:
        key, name = "provider_id AS key", "argMax(provider_name, calldate)"
    found = client.execute(
        f"SELECT {key}, {name}, count(), countIf({ANSWERED}), sumIf(billsec, {ANSWERED}), "
        f"countIf({EFFECTIVE}) FROM cdrs FINAL WHERE {where} GROUP BY key",
        values,
    )
    rows = [Counts(_text(name_), int(key_) if group_by == "provider" else 0, int(attempts),
                   int(answered), int(billsec), int(effective))
            for key_, name_, attempts, answered, billsec, effective in found]
    return sorted(rows, key=lambda row: (-row.attempts, row.name, row.provider_id))


def totals(rows: list[Counts]) -> Counts:
    """The counts of every row together."""
    return Counts("", 0, sum(r.attempts for r in rows), sum(r.answered for r in rows),
                  sum(r.billsec for r in rows), sum(r.effective for r in rows))


def _where(scope: Scope, start: int, end: int) -> tuple[str, dict[str, Any]]:
    values: dict[str, Any] = {"start": min(start, UINT32_MAX), "end": min(end, UINT32_MAX)}
    if scope.user_id is not None:
        values["user_id"] = scope.user_id
        return f"user_id = %(user_id)s AND {PERIOD}", values
    if scope.reseller_id is not None:
        values["reseller"] = scope.reseller_id
        return ("(user_id = %(reseller)s OR user_id IN "
                "(SELECT user_id FROM users FINAL WHERE owner_id = %(reseller)s)) "
                f"AND {PERIOD}"), values
    return PERIOD, values


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
