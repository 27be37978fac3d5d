"""The rejected_calls table: the calls the rater rejected, projected from `dead-letters`,
and the read of the open ones (no CDR yet). docs/rerating.md, "Rejected calls"."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import ConsumerRecord
from clickhouse_driver import Client

from rating.rater import (
    NO_EXCHANGE_RATE,
    NO_RATE,
    NO_TARIFF,
    UNKNOWN_DEVICE,
    UNKNOWN_DID,
    UNKNOWN_PROVIDER,
    UNKNOWN_USER,
)
from rating.rerate import RejectedCall, rejected_call
from streams.deadletters import json_object

TABLE = "rejected_calls"
COLUMNS = ("call_id", "calldate", "calldate_ms", "user_id", "device_id", "server_id", "src",
           "dst", "clid", "provider_id", "did", "hangup_cause", "duration", "billsec",
           "reason", "detail", "call", "source", "rejected", "version")
TABLES = {TABLE: COLUMNS}
REASONS = (UNKNOWN_USER, UNKNOWN_PROVIDER, NO_TARIFF, NO_RATE, NO_EXCHANGE_RATE, UNKNOWN_DID,
           UNKNOWN_DEVICE)
UINT32_MAX = 2**32 - 1  # DateTime's last second
LOOKUP_BATCH = 10_000  # call ids per `cdrs` look-up
# the table's narrow columns: a value outside them would make ClickHouse refuse the batch
_LIMITS = {"server_id": 2**32, "hangup_cause": 2**16, "duration": 2**32, "billsec": 2**32,
           "start_ms": (UINT32_MAX + 1) * 1000}


@dataclass(frozen=True, slots=True)
class OpenRejection:
    """One rejected call that has no CDR, as its latest rejection recorded it."""

    call_id: str
    start_ms: int
    user_id: int
    device_id: int
    server_id: int
    src: str
    dst: str
    clid: str
    provider_id: int
    did: str
    billsec: int
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class RejectionFilter:
    start: int = 0  # unix seconds of the call's start, inclusive
    end: int = UINT32_MAX  # inclusive
    reason: str | None = None  # one reason code, or every one


def record_rows(record: ConsumerRecord[bytes, bytes]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The row of a dead letter that records a rejected call; nothing for any other dead
    letter. ValueError (the sink dead-letters it, under a reason that is not a rejection,
    so it cannot come back here) for a rejection whose call cannot be read or stored."""
    letter = json_object(record.value, "dead letter")
    rejection = rejected_call(letter, record.timestamp)
    if rejection is not None:
        source = f"{letter.get('topic')}:{letter.get('partition')}:{letter.get('offset')}"
        yield TABLE, row(rejection, source, record)


def row(rejection: RejectedCall, source: str,
        record: ConsumerRecord[bytes, bytes]) -> tuple[Any, ...]:
    """The row of one rejection; `source` is the position of the call event it came from
    (`topic:partition:offset`)."""
    call = rejection.call
    for name, limit in _LIMITS.items():
        if getattr(call, name) >= limit:
            raise ValueError(f"unreadable rejected call: {name} is out of range")
    start = datetime.fromtimestamp(call.start_ms // 1000, UTC)
    rejected = datetime.fromtimestamp(min(max(record.timestamp, 0) // 1000, UINT32_MAX), UTC)
    return (call.call_id, start, call.start_ms % 1000, call.user_id, call.device_id,
            call.server_id, call.src, call.dst, call.clid, call.provider_id, call.did,
            call.hangup_cause, call.duration, call.billsec, rejection.reason,
            rejection.detail, orjson.dumps(asdict(call)).decode(), source, rejected,
            max(record.timestamp, 0))


def open_rejections(client: Client, where: RejectionFilter) -> list[OpenRejection]:
    """The latest rejection of every call started in the period that has no CDR (any
    version: a re-rating or a redelivery rated it), by call start and call id."""
    end = min(where.end, UINT32_MAX)
    latest = ", ".join(f"argMax({name}, version) AS {name}_" for name in (
        "calldate", "calldate_ms", "user_id", "device_id", "server_id", "src", "dst", "clid",
        "provider_id", "did", "billsec", "reason", "detail"))
    period = "calldate >= toDateTime(%(start)s) AND calldate <= toDateTime(%(end)s)"
    having = "HAVING reason_ = %(reason)s " if where.reason is not None else ""
    found = client.execute(
        f"SELECT call_id, {latest} FROM {TABLE} WHERE {period} "
        f"AND call_id NOT IN (SELECT call_id FROM cdrs WHERE {period}) "
        f"GROUP BY call_id {having}ORDER BY calldate_, calldate_ms_, call_id",
        {"start": max(where.start, 0), "end": end, "reason": where.reason},
    )
    return [OpenRejection(_str(r[0]), int(r[1].replace(tzinfo=UTC).timestamp()) * 1000 + r[2],
                          int(r[3]), int(r[4]), int(r[5]), _str(r[6]), _str(r[7]), _str(r[8]),
                          int(r[9]), _str(r[10]), int(r[11]), _str(r[12]), _str(r[13]))
            for r in found]


def rated_call_ids(client: Client, rejections: Iterable[RejectedCall]) -> set[str]:
    """The ids of the given rejected calls that have a CDR (any version) in `cdrs`."""
    pending = list(rejections)
    rated: set[str] = set()
    for first in range(0, len(pending), LOOKUP_BATCH):
        batch = pending[first:first + LOOKUP_BATCH]
        starts = [r.call.start_ms // 1000 for r in batch]
        found = client.execute(
            "SELECT DISTINCT call_id FROM cdrs WHERE calldate >= toDateTime(%(start)s) "
            "AND calldate <= toDateTime(%(end)s) AND call_id IN %(ids)s",
            {"start": min(starts), "end": min(max(starts), UINT32_MAX),
             "ids": tuple({r.call_id for r in batch})},
        )
        rated.update(_str(call_id) for call_id, in found)
    return rated


def _str(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
