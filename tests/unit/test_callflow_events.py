"""callflow_updated: strict validation of a device state's setting."""

from __future__ import annotations

from typing import Any

import pytest

from rating.reference import ACCOUNT_SCHEMA
from streams.account_events import parse_account_event
from streams.callflow_events import (
    PARSERS,
    UPDATED,
    Callflow,
    callflow_updated,
    event_fields,
)


def event(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": ACCOUNT_SCHEMA, "type": UPDATED, "device_id": 10, "user_id": 2,
        "state": "before_call", "action": "forward", "forward_to_device": 11,
        "external_number": "", "fax_device": 0, "callerid_type": "device",
        "callerid_data": "", "updated_ms": 1_700_000_000_000,
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def test_parses_a_forward_and_is_registered() -> None:
    flow = parse_account_event(event())
    assert flow == Callflow(10, 2, "before_call", "forward", 11, "", 0, "device", "",
                            1_700_000_000_000)
    assert PARSERS[UPDATED] is callflow_updated


@pytest.mark.parametrize("changes", [
    {"action": "forward", "forward_to_device": 0, "external_number": "37062698746"},
    {"action": "empty", "forward_to_device": 0},
    {"action": "voicemail", "forward_to_device": 0, "state": "busy"},
    {"action": "fax_detect", "forward_to_device": 0, "fax_device": 12},
    {"state": "no_answer", "callerid_type": "did", "callerid_data": "37052000999"},
    {"state": "failed", "callerid_type": "custom", "callerid_data": "Office <100>"},
    {"callerid_type": "src", "unknown_field": 1},  # other fields are ignored
    {"forward_to_device": None, "external_number": "123", "fax_device": None,
     "callerid_type": None, "callerid_data": None},  # optional fields default
])
def test_accepts(changes: dict[str, Any]) -> None:
    flow = callflow_updated(event(**changes))
    assert event_fields(flow)["state"] == flow.state


@pytest.mark.parametrize(("changes", "reason"), [
    ({"state": "ringing"}, "state must be one of"),
    ({"state": "call"}, "state call is fixed"),
    ({"state": "answered"}, "state answered is fixed"),
    ({"action": "dial"}, "action must be one of"),
    ({"action": "fax_detect", "forward_to_device": 0, "fax_device": 12, "state": "busy"},
     "fax_detect is only for the before_call state"),
    ({"forward_to_device": 0}, "exactly one of forward_to_device and external_number"),
    ({"external_number": "370"}, "exactly one of forward_to_device and external_number"),
    ({"forward_to_device": 0, "external_number": "+370"}, "1 to 30 digits"),
    ({"forward_to_device": 0, "external_number": "1" * 31}, "1 to 30 digits"),
    ({"forward_to_device": 10}, "cannot forward to itself"),
    ({"fax_device": 12}, "fax_device is only for fax_detect"),
    ({"action": "fax_detect", "forward_to_device": 0}, "fax_detect needs fax_device"),
    ({"action": "fax_detect", "fax_device": 12}, "forward targets are only for forward"),
    ({"action": "voicemail"}, "voicemail takes no forward or fax target"),
    ({"action": "empty", "forward_to_device": 0, "fax_device": 3}, "empty takes no"),
    ({"callerid_type": "anonymous"}, "callerid_type must be one of"),
    ({"callerid_data": "123"}, "callerid_type device takes no callerid_data"),
    ({"callerid_type": "did", "callerid_data": "12a"}, "needs the DID number"),
    ({"callerid_type": "custom", "callerid_data": " "}, "custom needs a caller id"),
    ({"callerid_type": "custom", "callerid_data": "a\nb"}, "custom needs a caller id"),
    ({"callerid_type": "custom", "callerid_data": "x" * 101}, "custom needs a caller id"),
    ({"device_id": 0}, "device_id must be positive"),
    ({"device_id": "10"}, "field device_id must be a non-negative integer"),
    ({"updated_ms": None}, "field updated_ms is missing"),
    ({"state": None}, "field state is missing"),
    ({"external_number": 370, "forward_to_device": 0}, "field external_number must be a string"),
])
def test_rejects_with_the_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        callflow_updated(event(**changes))


def test_event_fields_round_trip_and_refuse_bad_settings() -> None:
    flow = Callflow(10, 2, "busy", "voicemail", callerid_type="src", updated_ms=5)
    assert callflow_updated({"type": UPDATED, **event_fields(flow)}) == flow
    with pytest.raises(ValueError, match="fixed"):
        event_fields(Callflow(10, 2, "call", "empty"))
