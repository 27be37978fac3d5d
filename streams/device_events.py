"""Device events that rating does not read (`device_created` is rating.reference's).

`device_registered`: a switch (or `cdrflow device registered`) says a device logged in;
the devices page shows the last time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rating.fields import integer

REGISTERED = "device_registered"


@dataclass(frozen=True, slots=True)
class DeviceRegistered:
    device_id: int
    user_id: int  # the device's owner (the event's key)
    registered_ms: int


def device_registered(event: dict[str, Any]) -> DeviceRegistered:
    return DeviceRegistered(integer(event, "device_id"), integer(event, "user_id"),
                            integer(event, "registered_ms"))


PARSERS = {REGISTERED: device_registered}
