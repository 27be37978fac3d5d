"""Reads of the dids table for dids_get and did_create (rows: projections.callflow)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clickhouse_driver import Client

FREE, ACTIVE = "free", "active"
STATUSES = ("free", "reserved", "active", "closed", "terminated")  # MOR's; cdrflow has 2


@dataclass(frozen=True, slots=True)
class DidRow:
    did: str
    user_id: int  # 0 while free
    provider_id: int  # 0: not known (DIDs published by `cdrflow did add`)

    @property
    def status(self) -> str:
        """MOR's lifecycle status: cdrflow knows free (no owner) and active (owned)."""
        return ACTIVE if self.user_id else FREE


@dataclass(frozen=True, slots=True)
class DidFilter:
    number: str = ""  # part of the number, "" for any
    status: str = ""  # one of STATUSES, "" for any
    user_id: int | None = None
    owner_of_device: int | None = None  # the device's owner's DIDs (DIDs have no device)
    provider_id: int | None = None
    offset: int = 0
    limit: int | None = None


def did_exists(client: Client, did: str) -> bool:
    found = client.execute("SELECT count() FROM dids FINAL WHERE did = %(did)s", {"did": did})
    return bool(found[0][0])


def provider_exists(client: Client, provider_id: int) -> bool:
    found = client.execute("SELECT count() FROM providers FINAL WHERE provider_id = %(id)s",
                           {"id": provider_id})
    return bool(found[0][0])


def dids(client: Client, where: DidFilter) -> list[DidRow]:
    """The DIDs matching `where`, by number."""
    conditions, params = _conditions(where)
    if conditions is None:
        return []
    limit = f" LIMIT {where.offset}, {where.limit}" if where.limit is not None else (
        f" LIMIT {where.offset}, 18446744073709551615" if where.offset else "")
    found = client.execute(
        "SELECT did, user_id, provider_id FROM dids FINAL"
        f"{' WHERE ' + ' AND '.join(conditions) if conditions else ''} ORDER BY did{limit}",
        params)
    return [_row(row) for row in found]


def _conditions(where: DidFilter) -> tuple[list[str] | None, dict[str, Any]]:
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if where.number:
        conditions.append("position(did, %(number)s) > 0")
        params["number"] = where.number
    if where.status == FREE:
        conditions.append("user_id = 0")
    elif where.status == ACTIVE:
        conditions.append("user_id != 0")
    elif where.status:
        return None, params  # reserved, closed, terminated: cdrflow has none
    if where.user_id is not None:
        conditions.append("user_id = %(user_id)s")
        params["user_id"] = where.user_id
    if where.owner_of_device is not None:
        conditions.append("user_id != 0 AND user_id IN "
                          "(SELECT user_id FROM devices FINAL WHERE device_id = %(device)s)")
        params["device"] = where.owner_of_device
    if where.provider_id is not None:
        conditions.append("provider_id = %(provider)s")
        params["provider"] = where.provider_id
    return conditions, params


def _row(row: tuple[Any, ...]) -> DidRow:
    return DidRow(str(row[0]), int(row[1]), int(row[2]))
