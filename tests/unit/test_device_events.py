from datetime import UTC, datetime
from typing import Any

import pytest

from cdrflow.demo_data import account_events
from projections.account_tables import TABLES, rows_of
from projections.devices import REGISTRATION_COLUMNS, REGISTRATIONS
from projections.rows import DEVICE_COLUMNS
from rating.reference import Device, ReferenceData
from streams.account_events import account_event, parse_account_event
from streams.device_events import REGISTERED, DeviceRegistered

OLD = {"device_id": 10, "user_id": 2, "device_type": "SIP", "name": "john-desk",
       "extension": "201"}  # a device_created event from before the page fields


def created(**fields: Any) -> dict[str, Any]:
    return account_event("device_created", **{**OLD, **fields})


def test_old_device_events_get_the_defaults() -> None:
    device = parse_account_event(created())
    assert device == Device(10, 2, "SIP", "john-desk", "201", description="john-desk",
                            username="201", callerid="")


def test_the_page_fields_are_read() -> None:
    device = parse_account_event(created(description="John's desk phone", username="john201",
                                         callerid='"John" <201>'))
    assert isinstance(device, Device)
    assert (device.description, device.username, device.callerid) == (
        "John's desk phone", "john201", '"John" <201>')


@pytest.mark.parametrize(("fields", "reason"), [
    ({"description": 5}, "field description must be a string"),
    ({"username": None}, "field username must be a string"),
    ({"callerid": ["201"]}, "field callerid must be a string"),
    ({"secret": "s3cret"}, "device_created: a SIP/IAX2 secret never goes into an event"),
    ({"password": "201"}, "device_created: a SIP/IAX2 secret never goes into an event"),
    ({"pin": "12a"}, "device_created: pin must be 1 to 20 digits"),
    ({"pin": "1" * 21}, "device_created: pin must be 1 to 20 digits"),
])
def test_bad_device_events_say_why(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_account_event(created(**fields))
    assert str(caught.value).startswith(reason)


def test_a_device_row_has_the_page_fields() -> None:
    device = parse_account_event(created(callerid='"201" <201>'))
    rows = list(rows_of(device, 5))
    assert rows == [("devices", (10, 2, "SIP", "john-desk", "201", 5, "john-desk", "201",
                                 '"201" <201>', ""))]
    with_pin = parse_account_event(created(pin="0042"))
    [(_, row)] = rows_of(with_pin, 6)
    assert row[-1] == "0042"
    assert len(rows[0][1]) == len(DEVICE_COLUMNS) == len(TABLES["devices"])


def test_rating_still_reads_the_demo_devices() -> None:
    data = ReferenceData()
    for event in account_events():
        data.apply(event)
    assert data.devices[11].extension == "301" and data.devices[11].description == "ann-desk"


def test_device_registered_parses_and_projects_with_the_time_as_version() -> None:
    event = account_event(REGISTERED, device_id=10, user_id=2, registered_ms=1_700_000_000_999)
    registered = parse_account_event(event)
    assert registered == DeviceRegistered(10, 2, 1_700_000_000_999)
    assert ReferenceData().apply(event) is None  # not rating's business
    rows = list(rows_of(registered, 3))
    assert rows == [(REGISTRATIONS, (10, 2, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
                                     1_700_000_000_999))]
    assert len(rows[0][1]) == len(REGISTRATION_COLUMNS)


@pytest.mark.parametrize("fields", [
    {"device_id": "10"}, {"user_id": -2}, {"registered_ms": 1.5}, {"registered_ms": None}])
def test_bad_device_registered_events_are_refused(fields: dict[str, Any]) -> None:
    event = account_event(REGISTERED, **{"device_id": 10, "user_id": 2,
                                         "registered_ms": 1_700_000_000_000, **fields})
    with pytest.raises(ValueError):
        parse_account_event(event)
