"""Assembling the events of one call into a finished `Call` (pure, no I/O).

The state of a live call is a small JSON-ready dict kept in a Faust table under the
call id. Events of one call share a partition, so they arrive in the order the switch
sent them; duplicates of started/ringing/answered change nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rating.call import Call
from streams.events import CallAnswered, CallEnded, CallEvent, CallRinging, CallStarted

State = dict[str, Any]
ENDED_WITHOUT_START = (
    "call_ended without call_started (start missing, or a repeat after the call ended)"
)


@dataclass(frozen=True, slots=True)
class Step:
    state: State | None  # None: forget the call
    call: Call | None = None  # set when the call ended
    problem: str | None = None  # set when the event cannot be used


def apply(state: State | None, event: CallEvent) -> Step:
    state = dict(state) if state else {"answer_ms": 0, "ringing": False}
    if isinstance(event, CallStarted):
        state.setdefault("started", asdict(event))
        return Step(state)
    if isinstance(event, CallRinging):
        state["ringing"] = True
        return Step(state)
    if isinstance(event, CallAnswered):
        state["answer_ms"] = state["answer_ms"] or event.ts_ms
        return Step(state)
    assert isinstance(event, CallEnded)
    started = state.get("started")
    if started is None:
        return Step(None, problem=ENDED_WITHOUT_START)
    return Step(None, call=Call(
        call_id=event.call_id,
        start_ms=started["ts_ms"],
        answer_ms=state["answer_ms"],
        end_ms=event.ts_ms,
        ringing=state["ringing"],
        user_id=started["user_id"],
        device_id=started["device_id"],
        server_id=started["server_id"],
        src=started["src"],
        dst=started["dst"],
        clid=started["clid"],
        channel=started["channel"],
        uniqueid=started["uniqueid"],
        hangup_cause=event.hangup_cause,
        billsec=event.billsec,
        duration=event.duration,
        provider_id=started.get("provider_id", 0),
        provider_name=started.get("provider_name", ""),
        did=started.get("did", ""),
    ))
