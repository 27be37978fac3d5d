"""A finished call as the switch reported it: the input of rating."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Call:
    call_id: str
    start_ms: int
    answer_ms: int  # 0 when the call was never answered
    end_ms: int
    ringing: bool  # the callee's phone rang (tells a decline from a network rejection)
    user_id: int
    device_id: int
    server_id: int
    src: str
    dst: str
    clid: str
    channel: str
    uniqueid: str
    hangup_cause: int
    billsec: int
    duration: int
    provider_id: int = 0
    provider_name: str = ""
    did: str = ""  # the DID number the call came in through, if any
    closed_by: str = ""  # "" when the switch hung up; MAX_DURATION when cdrflow closed it


MAX_DURATION = "max_duration"  # no call_ended within the longest call (docs/events.md)
