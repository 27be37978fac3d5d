"""The faxes table: rows from the `faxes` topic, and the reads of the Faxes page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from clickhouse_driver import Client

from streams.events import FaxReceived

TABLE = "faxes"
COLUMNS = ("fax_id", "user_id", "device_id", "received", "received_ms", "sender", "filename",
           "pages", "status", "version")
TABLES = {TABLE: COLUMNS}


def rows(fax: FaxReceived, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    received = datetime.fromtimestamp(fax.ts_ms // 1000, tz=UTC)
    yield TABLE, (fax.call_id, fax.user_id, fax.device_id, received, fax.ts_ms % 1000,
                  fax.sender, fax.filename, fax.pages, fax.status, version)


@dataclass(frozen=True, slots=True)
class FaxFilter:
    user_id: int
    start: int  # unix seconds, inclusive
    end: int  # unix seconds, inclusive
    status: str | None = None  # one of streams.events.FAX_STATUSES; None: every status
    device_id: int | None = None  # None: every device


@dataclass(frozen=True, slots=True)
class Fax:
    fax_id: str
    user_id: int
    device_id: int
    received: datetime  # aware, UTC, whole seconds
    sender: str
    filename: str
    pages: int
    status: str


def faxes(client: Client, where: FaxFilter) -> list[Fax]:
    """A user's faxes received in the period, oldest first."""
    conditions = ["user_id = %(user_id)s", "received >= toDateTime(%(start)s)",
                  "received <= toDateTime(%(end)s)"]
    params: dict[str, Any] = {"user_id": where.user_id, "start": _clamp(where.start),
                              "end": _clamp(where.end)}
    if where.status is not None:
        conditions.append("CAST(status AS String) = %(status)s")
        params["status"] = where.status
    if where.device_id is not None:
        conditions.append("device_id = %(device_id)s")
        params["device_id"] = where.device_id
    found = client.execute(
        "SELECT fax_id, user_id, device_id, received, sender, filename, pages, status "
        f"FROM {TABLE} FINAL WHERE {' AND '.join(conditions)} "
        "ORDER BY received, received_ms, fax_id",
        params,
    )
    return [Fax(_text(r[0]), int(r[1]), int(r[2]), r[3].replace(tzinfo=UTC), _text(r[4]),
                _text(r[5]), int(r[6]), str(r[7])) for r in found]


def _clamp(seconds: int) -> int:
    """DateTime is UInt32 seconds: keep a period bound inside it."""
    return max(0, min(seconds, 2**32 - 1))


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
