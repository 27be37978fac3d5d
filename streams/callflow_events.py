"""Callflow events: what a device does at each state of a call (MOR's "Call Flow").

One event type, `callflow_updated`, replaces the whole setting of one state of one
device. States without an event keep MOR's defaults (projections.callflow). The call
and answered states are fixed (Dial the device, Hangup): they are known, so that pages
can name them, but no event may change them. (docs/callflow.md)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rating.fields import integer, text

UPDATED = "callflow_updated"

# state -> how MOR names it, in the order the Call Flow page lists them
STATES = {
    "before_call": "Before call",
    "call": "Call",
    "answered": "Answered",
    "no_answer": "No answer",
    "busy": "Busy",
    "failed": "Failed",
}
FIXED_STATES = frozenset({"call", "answered"})  # Dial(device), Hangup: never changed
EDITABLE_STATES = tuple(state for state in STATES if state not in FIXED_STATES)

# action -> how MOR names it
ACTIONS = {"empty": "Empty", "forward": "Forward", "voicemail": "Voicemail",
           "fax_detect": "Fax detect"}
FAX_DETECT_STATES = frozenset({"before_call"})

# caller id type -> how MOR names it; the API parameter that selects each
CALLERID_TYPES = {"device": "From Device", "src": "Same as comes", "did": "DID",
                  "custom": "Custom"}
DEFAULT_CALLERID = "device"

MAX_EXTERNAL_NUMBER = 30
MAX_CUSTOM_CALLERID = 100
_DIGITS = re.compile(r"[0-9]+")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def valid_external_number(number: str) -> bool:
    """A number to forward to: ASCII digits only, 1 to MAX_EXTERNAL_NUMBER of them."""
    return bool(_DIGITS.fullmatch(number)) and len(number) <= MAX_EXTERNAL_NUMBER


def valid_custom_callerid(value: str) -> bool:
    """A custom caller id: not blank, no control characters, at most 100 characters."""
    return (bool(value.strip()) and len(value) <= MAX_CUSTOM_CALLERID
            and not _CONTROL.search(value))


@dataclass(frozen=True, slots=True)
class Callflow:
    """The setting of one state of one device (targets are 0 or "" when unused)."""

    device_id: int
    user_id: int  # the device's owner: the event's Kafka key
    state: str
    action: str
    forward_to_device: int = 0
    external_number: str = ""
    fax_device: int = 0
    callerid_type: str = DEFAULT_CALLERID
    callerid_data: str = ""
    updated_ms: int = 0


def callflow_updated(event: dict[str, Any]) -> Callflow:
    flow = Callflow(
        device_id=integer(event, "device_id"),
        user_id=integer(event, "user_id"),
        state=text(event, "state"),
        action=text(event, "action"),
        forward_to_device=integer(event, "forward_to_device", 0),
        external_number=text(event, "external_number", ""),
        fax_device=integer(event, "fax_device", 0),
        callerid_type=text(event, "callerid_type", DEFAULT_CALLERID),
        callerid_data=text(event, "callerid_data", ""),
        updated_ms=integer(event, "updated_ms"),
    )
    check(flow)
    return flow


def check(flow: Callflow) -> None:
    """Raise ValueError saying what is wrong with a callflow setting."""
    if flow.device_id == 0:
        raise ValueError(f"{UPDATED}: device_id must be positive")
    if flow.state not in STATES:
        raise ValueError(f"{UPDATED}: state must be one of {', '.join(STATES)}")
    if flow.state in FIXED_STATES:
        raise ValueError(f"{UPDATED}: state {flow.state} is fixed and cannot be changed")
    if flow.action not in ACTIONS:
        raise ValueError(f"{UPDATED}: action must be one of {', '.join(ACTIONS)}")
    if flow.action == "fax_detect" and flow.state not in FAX_DETECT_STATES:
        raise ValueError(f"{UPDATED}: fax_detect is only for the before_call state")
    _check_targets(flow)
    _check_callerid(flow)


def _check_targets(flow: Callflow) -> None:
    device, number, fax = flow.forward_to_device, flow.external_number, flow.fax_device
    if flow.action == "forward":
        if bool(device) == bool(number):
            raise ValueError(f"{UPDATED}: forward needs exactly one of forward_to_device "
                             "and external_number")
        if number and not valid_external_number(number):
            raise ValueError(f"{UPDATED}: external_number must be 1 to "
                             f"{MAX_EXTERNAL_NUMBER} digits")
        if device == flow.device_id:
            raise ValueError(f"{UPDATED}: a device cannot forward to itself")
        if fax:
            raise ValueError(f"{UPDATED}: fax_device is only for fax_detect")
    elif flow.action == "fax_detect":
        if not fax:
            raise ValueError(f"{UPDATED}: fax_detect needs fax_device")
        if device or number:
            raise ValueError(f"{UPDATED}: forward targets are only for forward")
    elif device or number or fax:
        raise ValueError(f"{UPDATED}: {flow.action} takes no forward or fax target")


def _check_callerid(flow: Callflow) -> None:
    kind, data = flow.callerid_type, flow.callerid_data
    if kind not in CALLERID_TYPES:
        raise ValueError(f"{UPDATED}: callerid_type must be one of {', '.join(CALLERID_TYPES)}")
    if kind in ("device", "src") and data:
        raise ValueError(f"{UPDATED}: callerid_type {kind} takes no callerid_data")
    if kind == "did" and not _DIGITS.fullmatch(data):
        raise ValueError(f"{UPDATED}: callerid_type did needs the DID number (digits)")
    if kind == "custom" and not valid_custom_callerid(data):
        raise ValueError(f"{UPDATED}: callerid_type custom needs a caller id of 1 to "
                         f"{MAX_CUSTOM_CALLERID} characters without control characters")


def event_fields(flow: Callflow) -> dict[str, Any]:
    """The fields of the `callflow_updated` event of a (checked) setting."""
    check(flow)
    return {"device_id": flow.device_id, "user_id": flow.user_id, "state": flow.state,
            "action": flow.action, "forward_to_device": flow.forward_to_device,
            "external_number": flow.external_number, "fax_device": flow.fax_device,
            "callerid_type": flow.callerid_type, "callerid_data": flow.callerid_data,
            "updated_ms": flow.updated_ms}


PARSERS = {UPDATED: callflow_updated}
