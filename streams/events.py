"""Call events: the versioned JSON that switches publish to `call-events`.

`decode` turns raw bytes into a typed event or raises `BadEvent` with a reason
that goes to the dead-letter topic. docs/events.md shows every type.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, fields
from typing import Any

import orjson

SCHEMA = "cdrflow.call-event/1"
MAX_EVENT_BYTES = 64 * 1024
MAX_TEXT = 256
MAX_SECONDS = 7 * 24 * 3600


# No text a switch sends (numbers, channels, ids, names) holds a control character; one
# that does is damaged or hostile (and the XML pages could not show it anyway).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadEvent(ValueError):
    """Input that can never become part of a call; its message is the reason."""


@dataclass(frozen=True, slots=True)
class CallStarted:
    call_id: str
    ts_ms: int
    user_id: int
    device_id: int
    server_id: int
    src: str
    dst: str
    clid: str
    channel: str
    uniqueid: str
    provider_id: int = 0
    provider_name: str = ""
    did: str = ""  # the DID number the call came in through, if any


@dataclass(frozen=True, slots=True)
class CallRinging:
    call_id: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class CallAnswered:
    call_id: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class CallEnded:
    call_id: str
    ts_ms: int
    hangup_cause: int
    billsec: int
    duration: int


@dataclass(frozen=True, slots=True)
class FaxReceived:
    """A fax the switch received for a FAX device; `call_id` is the fax's id
    (docs/faxes.md). Not part of any call's assembly: the worker forwards it to `faxes`."""

    call_id: str
    ts_ms: int
    user_id: int
    device_id: int  # the FAX device
    sender: str  # caller number, "" when unknown
    filename: str  # the stored document, "" when there is none
    pages: int
    status: str  # one of FAX_STATUSES


# fax statuses and MOR's words for them on the Faxes page
FAX_STATUSES = {
    "received": "Received",
    "failed": "Failed",
    "empty": "Empty",  # the call carried no fax page
    "not_fax": "Not a fax",  # a voice call answered by the fax device
}
MAX_FAX_PAGES = 10_000

@dataclass(frozen=True, slots=True)
class Sweep:
    """The worker's own clock tick for some live calls of one partition (docs/events.md,
    "Calls that never end"): sent by the worker's timer into that partition, so that the
    decision to close or forget a call is taken in order with the call's other events.
    `ts_ms` is the worker's clock when it sent the sweep."""

    ts_ms: int
    call_ids: tuple[str, ...]


MAX_SWEEP_CALLS = 1000

CallEvent = CallStarted | CallRinging | CallAnswered | CallEnded | FaxReceived | Sweep
CallStep = CallStarted | CallRinging | CallAnswered | CallEnded  # the events of one call

_TYPES: dict[str, type[CallEvent]] = {
    "call_started": CallStarted,
    "call_ringing": CallRinging,
    "call_answered": CallAnswered,
    "call_ended": CallEnded,
    "fax_received": FaxReceived,
    "sweep": Sweep,
}
_NAMES = {cls: name for name, cls in _TYPES.items()}


def decode(raw: bytes | None) -> CallEvent:
    if raw is None:
        raise BadEvent("empty message")
    if len(raw) > MAX_EVENT_BYTES:
        raise BadEvent(f"event larger than {MAX_EVENT_BYTES} bytes")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadEvent(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadEvent("event is not a JSON object")
    if data.get("schema") != SCHEMA:
        raise BadEvent(f"unknown schema {_show(data.get('schema'))}, expected {SCHEMA}")
    kind = data.get("type")
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise BadEvent(f"unknown event type {_show(kind)}")
    if cls is Sweep:
        return _sweep(data)
    values = {
        field.name: _field(data, field.name, str(field.type))
        for field in fields(cls)
        if field.name in data or field.default is MISSING
    }
    event = cls(**values)
    if isinstance(event, CallEnded) and event.billsec > event.duration:
        raise BadEvent("billsec is greater than duration")
    if isinstance(event, FaxReceived):
        if event.status not in FAX_STATUSES:
            raise BadEvent(f"fax_received: field status must be one of "
                           f"{', '.join(FAX_STATUSES)}, not {_show(event.status)}")
        if event.pages > MAX_FAX_PAGES:
            raise BadEvent(f"fax_received: field pages is more than {MAX_FAX_PAGES}")
    return event


def encode(event: CallEvent) -> bytes:
    body: dict[str, Any] = {"schema": SCHEMA, "type": _NAMES[type(event)]}
    for field in fields(event):
        body[field.name] = getattr(event, field.name)
    return orjson.dumps(body)


def _sweep(data: dict[str, Any]) -> Sweep:
    ts_ms = _field(data, "ts_ms", "int")
    call_ids = data.get("call_ids")
    if not isinstance(call_ids, list) or not 0 < len(call_ids) <= MAX_SWEEP_CALLS:
        raise BadEvent(f"sweep: field call_ids must be a list of 1 to {MAX_SWEEP_CALLS} "
                       "call ids")
    for call_id in call_ids:
        if not isinstance(call_id, str) or not call_id or len(call_id) > MAX_TEXT:
            raise BadEvent("sweep: every call id must be a non-empty string of at most "
                           f"{MAX_TEXT} characters")
    return Sweep(ts_ms, tuple(call_ids))


def _field(data: dict[str, Any], name: str, kind: str) -> Any:
    if name not in data:
        raise BadEvent(f"{data['type']}: field {name} is missing")
    value = data[name]
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BadEvent(f"{data['type']}: field {name} must be a non-negative integer")
        if name in ("billsec", "duration") and value > MAX_SECONDS:
            raise BadEvent(f"{data['type']}: field {name} is longer than {MAX_SECONDS} s")
        if value > 2**63 - 1:
            raise BadEvent(f"{data['type']}: field {name} is too large")
        return value
    if not isinstance(value, str):
        raise BadEvent(f"{data['type']}: field {name} must be a string")
    if len(value) > MAX_TEXT:
        raise BadEvent(f"{data['type']}: field {name} is longer than {MAX_TEXT} characters")
    if name == "call_id" and not value:
        raise BadEvent(f"{data['type']}: field call_id is empty")
    if _CONTROL.search(value):
        raise BadEvent(f"{data['type']}: field {name} contains control characters")
    return value


def _show(value: Any) -> str:
    return repr(value)[:60]
