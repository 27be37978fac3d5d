"""The active_calls table: rows from the `active-calls` topic, and the read of live calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from clickhouse_driver import Client

from streams.deadletters import json_object

TABLE = "active_calls"
COLUMNS = ("call_id", "ended", "user_id", "device_id", "src", "dst", "localized_dst",
           "provider_id", "provider_name", "server_id", "started_ms", "answered_ms", "status",
           "did", "dst_user_id", "uniqueid", "channel", "prefix", "destination", "direction",
           "destination_group", "written", "version")
TABLES = {TABLE: COLUMNS}
STATUSES = ("ringing", "answered")
_TEXT = ("src", "dst", "provider_name", "did", "uniqueid", "channel", "prefix", "destination",
         "direction", "destination_group")
_NUMBER = ("user_id", "device_id", "provider_id", "server_id", "started_ms", "answered_ms",
           "dst_user_id")


@dataclass(frozen=True, slots=True)
class ActiveCall:
    call_id: str
    user_id: int
    device_id: int
    src: str
    dst: str
    localized_dst: str  # dst as the user's tariff normalises it; dst when unknown
    provider_id: int
    provider_name: str
    server_id: int
    started_ms: int
    answered_ms: int  # 0 while ringing
    status: str  # ringing or answered
    did: str = ""
    dst_user_id: int = 0  # the DID's owner for an inbound call, else 0
    uniqueid: str = ""
    channel: str = ""
    prefix: str = ""  # the destination in the user's tariff, "" when unknown
    destination: str = ""
    direction: str = ""
    destination_group: str = ""


def record_rows(record: ConsumerRecord[bytes, bytes]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """One row per record; a tombstone (value None) is the row that ends the call.
    A value that is not a live call state raises ValueError (a dead letter)."""
    if not record.key:
        raise ValueError("active call without a key")
    call_id = record.key.decode("utf-8", "replace")
    written = datetime.fromtimestamp(max(record.timestamp, 0) // 1000, tz=UTC)
    if record.value is None:
        yield TABLE, (call_id, 1, 0, 0, "", "", "", 0, "", 0, 0, 0, "", "", 0, "", "", "", "",
                      "", "", written, record.offset)
        return
    state = json_object(record.value, "active call")
    if state.get("call_id") != call_id or state.get("status") not in STATUSES:
        raise ValueError("active call state does not match its key or has no status")
    values: dict[str, int | str] = {name: _number(state, name) for name in _NUMBER}
    values.update({name: _text(state, name) for name in _TEXT})
    yield TABLE, (call_id, 0, values["user_id"], values["device_id"], values["src"],
                  values["dst"], _text(state, "localized_dst") or values["dst"],
                  values["provider_id"], values["provider_name"], values["server_id"],
                  values["started_ms"], values["answered_ms"], state["status"], values["did"],
                  values["dst_user_id"], values["uniqueid"], values["channel"],
                  values["prefix"], values["destination"], values["direction"],
                  values["destination_group"], written, record.offset)


def active_calls(client: Client, since_ms: int) -> list[ActiveCall]:
    """Every call whose latest record is a state (not a tombstone) and that started at
    or after `since_ms`, oldest first."""
    latest = ", ".join(f"argMax({name}, version)" for name in COLUMNS[2:-2])
    found = client.execute(
        f"SELECT call_id, argMax(ended, version) AS gone, {latest} FROM {TABLE} "
        f"WHERE call_id IN (SELECT call_id FROM {TABLE} "
        "WHERE ended = 0 AND started_ms >= %(since)s) "
        "GROUP BY call_id HAVING gone = 0",
        {"since": max(since_ms, 0)},
    )
    calls = [ActiveCall(_str(r[0]), int(r[2]), int(r[3]), _str(r[4]), _str(r[5]), _str(r[6]),
                        int(r[7]), _str(r[8]), int(r[9]), int(r[10]), int(r[11]), _str(r[12]),
                        _str(r[13]), int(r[14]), _str(r[15]), _str(r[16]), _str(r[17]),
                        _str(r[18]), _str(r[19]), _str(r[20])) for r in found]
    return sorted(calls, key=lambda call: (call.started_ms, call.call_id))


def known_direction(client: Client, direction: str) -> bool:
    """Whether any tariff has a destination of this direction (country)."""
    found = client.execute("SELECT count() FROM tariff_rates WHERE direction = %(d)s",
                           {"d": direction})
    return bool(found[0][0])


def known_destination_group(client: Client, group: str) -> bool:
    """Whether any tariff has a destination in this destination group."""
    found = client.execute("SELECT count() FROM tariff_rates WHERE destination_group = %(g)s",
                           {"g": group})
    return bool(found[0][0])


def _number(state: dict[str, Any], name: str) -> int:
    value = state.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise ValueError(f"active call field {name} must be a non-negative integer")
    return value


def _text(state: dict[str, Any], name: str) -> str:
    value = state.get(name, "")
    if not isinstance(value, str):
        raise ValueError(f"active call field {name} must be a string")
    return value


def _str(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
