"""Reads of the devices table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clickhouse_driver import Client

SELECT = "device_id, user_id, device_type, name, extension"


@dataclass(frozen=True, slots=True)
class Device:
    device_id: int
    user_id: int
    device_type: str  # SIP, IAX2, FAX...
    name: str
    extension: str

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


def _device(row: tuple[Any, ...]) -> Device:
    device_id, user_id, device_type, name, extension = row
    return Device(int(device_id), int(user_id), str(device_type), str(name), str(extension))
