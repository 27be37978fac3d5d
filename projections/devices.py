"""Reads of the devices table, and the device_registrations table (last registrations)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from clickhouse_driver import Client

from streams.device_events import DeviceRegistered

SELECT = ("device_id, user_id, device_type, name, extension, description, username, callerid, "
          "pin")
REGISTRATIONS = "device_registrations"
REGISTRATION_COLUMNS = ("device_id", "user_id", "registered", "version")


@dataclass(frozen=True, slots=True)
class Device:
    device_id: int
    user_id: int
    device_type: str  # SIP, IAX2, FAX...
    name: str
    extension: str
    description: str = ""
    username: str = ""  # the SIP/IAX2 login; its secret is never stored (docs/devices.md)
    callerid: str = ""  # `"101" <101>`
    pin: str = ""  # MOR's device PIN, "" for none

    @property
    def label(self) -> str:
        """How MOR names a device: `IAX2/101` (type / extension)."""
        return f"{self.device_type}/{self.extension}"


def device_by_id(client: Client, device_id: int) -> Device | None:
    found = client.execute(f"SELECT {SELECT} FROM devices FINAL WHERE device_id = %(id)s",
                           {"id": device_id})
    return _device(found[0]) if found else None


def devices_of_user(client: Client, user_id: int) -> list[Device]:
    found = client.execute(
        f"SELECT {SELECT} FROM devices FINAL WHERE user_id = %(user_id)s ORDER BY device_id",
        {"user_id": user_id})
    return [_device(row) for row in found]


def device_by_username(client: Client, username: str) -> Device | None:
    """The device with this SIP/IAX2 login (the lowest id when several share it)."""
    found = client.execute(
        f"SELECT {SELECT} FROM devices FINAL WHERE username = %(username)s "
        "ORDER BY device_id LIMIT 1", {"username": username})
    return _device(found[0]) if found else None


def pin_in_use(client: Client, pin: str) -> bool:
    """Whether a device already has this PIN."""
    found = client.execute("SELECT count() FROM devices FINAL WHERE pin = %(pin)s",
                           {"pin": pin})
    return bool(found[0][0])


def registration_rows(registered: DeviceRegistered,
                      version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The device_registrations row; its version is the registration time, not the
    offset, so the latest registration wins in whatever order switches publish."""
    del version
    at = datetime.fromtimestamp(registered.registered_ms // 1000, tz=UTC)
    yield REGISTRATIONS, (registered.device_id, registered.user_id, at,
                          registered.registered_ms)


def last_registrations(client: Client, device_ids: Iterable[int]) -> dict[int, datetime]:
    """When each of the devices last registered (aware, UTC); devices never registered
    are left out."""
    ids = sorted(set(device_ids))
    if not ids:
        return {}
    found = client.execute(
        f"SELECT device_id, max(registered) FROM {REGISTRATIONS} "
        "WHERE device_id IN %(ids)s GROUP BY device_id",
        {"ids": tuple(ids)})
    return {int(device_id): at.replace(tzinfo=UTC) for device_id, at in found}


def _device(row: tuple[Any, ...]) -> Device:
    device_id, user_id, device_type, name, extension, description, username, callerid, pin = row
    return Device(int(device_id), int(user_id), str(device_type), str(name), str(extension),
                  str(description), str(username), str(callerid), str(pin))
