"""Missed calls: the user's missed CDRs (projections.call_stats.MISSED_CONDITION over
`cdrs FINAL`) and the `missed_call_marks` table that says which ones they processed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from clickhouse_driver import Client

from projections.call_stats import MISSED_CONDITION
from streams.missed_call_events import MissedCallMark

TABLE = "missed_call_marks"
COLUMNS = ("user_id", "call_id", "processed", "marked", "version")


def rows(mark: MissedCallMark, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (mark.user_id, mark.call_id, int(mark.processed),
                  datetime.fromtimestamp(mark.at_ms // 1000, tz=UTC), version)


@dataclass(frozen=True, slots=True)
class MissedCall:
    call_id: str
    calldate: datetime  # aware, UTC
    src: str
    dst: str
    duration: int  # seconds
    disposition: str
    processed: bool


def missed_calls(client: Client, user_id: int, start: int, end: int) -> list[MissedCall]:
    """The user's missed calls that started from `start` to `end` (epoch seconds,
    inclusive), oldest first, each with its last processed mark (none: not processed)."""
    found = client.execute(
        "SELECT call_id, calldate, src, dst, duration, CAST(disposition AS String) "
        f"FROM cdrs FINAL WHERE {MISSED_CONDITION} "
        "AND calldate >= toDateTime(%(start)s) AND calldate <= toDateTime(%(end)s) "
        "ORDER BY calldate, call_id",
        {"user_id": user_id, "start": start, "end": end},
    )
    marks = processed_marks(client, user_id, [row[0] for row in found])
    return [MissedCall(row[0], row[1].replace(tzinfo=UTC), row[2], row[3], row[4], row[5],
                       marks.get(row[0], False)) for row in found]


def processed_marks(client: Client, user_id: int, call_ids: list[str]) -> dict[str, bool]:
    """The last mark of each of these calls of the user that has one."""
    if not call_ids:
        return {}
    found = client.execute(
        f"SELECT call_id, processed FROM {TABLE} FINAL "
        "WHERE user_id = %(user_id)s AND call_id IN %(call_ids)s",
        {"user_id": user_id, "call_ids": tuple(call_ids)},
    )
    return {call_id: bool(processed) for call_id, processed in found}


def is_missed_call(client: Client, user_id: int, call_id: str) -> bool:
    """Whether `call_id` is a missed call of the user (at any time)."""
    found = client.execute(
        f"SELECT count() FROM cdrs FINAL WHERE {MISSED_CONDITION} AND call_id = %(call_id)s",
        {"user_id": user_id, "call_id": call_id},
    )
    return bool(found[0][0])


def unprocessed_count(client: Client, user_id: int, start: int, end: int) -> int:
    """How many of the user's missed calls from `start` to `end` are not processed."""
    return sum(not call.processed for call in missed_calls(client, user_id, start, end))
