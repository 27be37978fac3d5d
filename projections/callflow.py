"""The callflows and dids tables: rows from callflow and DID events, and the reads of
the callflow API method and pages.

A state of a device without a `callflow_updated` event reads as MOR's default
(`setting`): Empty for the editable states; Call and Answered are fixed (Dial the
device, Hangup) and never stored. (docs/callflow.md)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from clickhouse_driver import Client

from projections.devices import SELECT as DEVICE_SELECT
from projections.devices import Device, _device
from projections.queries import User
from rating.reference import Did
from streams.callflow_events import Callflow

TABLE = "callflows"
COLUMNS = ("device_id", "state", "user_id", "action", "forward_to_device", "external_number",
           "fax_device", "callerid_type", "callerid_data", "updated_ms", "version")
DIDS_TABLE = "dids"
DIDS_COLUMNS = ("did", "user_id", "incoming_tariff_id", "owner_tariff_id",
                "provider_tariff_id", "version", "provider_id")
FAX_TYPE = "FAX"


def rows(flow: Callflow, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (flow.device_id, flow.state, flow.user_id, flow.action,
                  flow.forward_to_device, flow.external_number, flow.fax_device,
                  flow.callerid_type, flow.callerid_data, flow.updated_ms, version)


def did_rows(did: Did, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield DIDS_TABLE, (did.did, did.user_id, did.incoming_tariff_id, did.owner_tariff_id,
                       did.provider_tariff_id, version, did.provider_id)


def stored(client: Client, device_id: int) -> dict[str, Callflow]:
    """The states of a device that events have set, by state."""
    found = client.execute(
        f"SELECT {', '.join(COLUMNS[:-1])} FROM {TABLE} FINAL "
        "WHERE device_id = %(device_id)s",
        {"device_id": device_id},
    )
    flows = (Callflow(int(r[0]), int(r[2]), str(r[1]), str(r[3]), int(r[4]), str(r[5]),
                      int(r[6]), str(r[7]), str(r[8]), int(r[9])) for r in found)
    return {flow.state: flow for flow in flows}


def setting(flows: dict[str, Callflow], device: Device, state: str) -> Callflow:
    """The setting of one state: the last event's, else the default (Empty, caller id
    from the device)."""
    return flows.get(state) or Callflow(device.device_id, device.user_id, state, "empty")


@dataclass(frozen=True, slots=True)
class DidOwner:
    did: str
    user_id: int  # 0 while the DID is free


def did_by_number(client: Client, did: str) -> DidOwner | None:
    found = client.execute(
        f"SELECT did, user_id FROM {DIDS_TABLE} FINAL WHERE did = %(did)s", {"did": did})
    return DidOwner(str(found[0][0]), int(found[0][1])) if found else None


def devices_by_ids(client: Client, device_ids: Iterable[int]) -> dict[int, Device]:
    wanted = sorted(set(device_ids))
    if not wanted:
        return {}
    found = client.execute(
        f"SELECT {DEVICE_SELECT} FROM devices FINAL WHERE device_id IN %(ids)s",
        {"ids": tuple(wanted)})
    return {device.device_id: device for device in map(_device, found)}


def visible_devices(client: Client, caller: User) -> list[Device]:
    """The devices whose owners `caller` may see (api.access.can_see), by id."""
    if caller.role in ("admin", "accountant"):
        found = client.execute(f"SELECT {DEVICE_SELECT} FROM devices FINAL ORDER BY device_id")
    elif caller.role == "reseller":
        found = client.execute(
            f"SELECT {DEVICE_SELECT} FROM devices FINAL WHERE user_id IN "
            "(SELECT user_id FROM users FINAL WHERE user_id = %(id)s OR owner_id = %(id)s) "
            "ORDER BY device_id",
            {"id": caller.user_id})
    elif caller.role == "user":
        found = client.execute(
            f"SELECT {DEVICE_SELECT} FROM devices FINAL WHERE user_id = %(id)s "
            "ORDER BY device_id",
            {"id": caller.user_id})
    else:
        found = []
    return [_device(row) for row in found]


def fax_devices(client: Client, user_id: int) -> list[Device]:
    """A user's fax devices (type FAX), by id: the ones fax detection may send to."""
    found = client.execute(
        f"SELECT {DEVICE_SELECT} FROM devices FINAL WHERE user_id = %(id)s "
        "AND upper(device_type) = %(fax)s ORDER BY device_id",
        {"id": user_id, "fax": FAX_TYPE})
    return [_device(row) for row in found]
