"""Assembling the events of one call into a finished `Call` (pure, no I/O).

The state of a call is a small JSON-ready dict kept in a Faust table under the call id.
Events of one call share a partition, so they arrive in the order the switch sent them;
but a switch may send them out of order, twice, or not at all (docs/events.md, "Messy
switches"):

- ringing, answered and even call_ended may come before call_started: they wait in the
  state, and the call is finished when its start arrives;
- repeats of started/ringing/answered change nothing;
- once finished, the call is remembered as closed (`closed_ms`: when its end arrived) for
  `Limits.late_ms`, so that anything arriving later for it is recorded as late and never
  rated again;
- a call with no call_ended is closed `Limits.max_call_ms` after its start by a `Sweep`
  (the worker's clock tick, sent through the call's own partition) and flagged
  `closed_by = max_duration`;
- events whose call_started never comes are given up after `Limits.late_ms` and recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from rating.call import MAX_DURATION, Call
from streams.events import CallAnswered, CallEnded, CallRinging, CallStarted, CallStep

State = dict[str, Any]
ENDED_WITHOUT_START = "call_ended without call_started (the start never arrived)"
ORPHAN = "call_ringing or call_answered without call_started (the start never arrived)"
_NAMES = {CallStarted: "call_started", CallRinging: "call_ringing",
          CallAnswered: "call_answered", CallEnded: "call_ended"}
# each event type's fields, and a getter of their values (dataclasses.asdict deep-copies
# and costs ten times as much: the worker does this for every call)
_FIELDS = {kind: tuple(f.name for f in fields(kind)) for kind in (CallStarted, CallEnded)}
_VALUES = {kind: attrgetter(*names) for kind, names in _FIELDS.items()}


@dataclass(frozen=True, slots=True)
class Limits:
    max_call_ms: int  # a call with no call_ended is closed this long after its start
    late_ms: int  # a closed call is remembered, and a start is waited for, this long


@dataclass(frozen=True, slots=True)
class Step:
    state: State | None  # None: forget the call
    call: Call | None = None  # set when the call ended
    problem: str | None = None  # set when an event cannot be used (a dead letter)
    changed: bool = True  # False: the state is the one given, nothing to write
    shown: bool = True  # False: what active_calls_get shows of the call did not change


def apply(state: State | None, event: CallStep, arrived_ms: int | None = None,
          offset: int | None = None) -> Step:
    """The call's next state after one of its events.

    `arrived_ms` is when the event arrived (the Kafka record's timestamp; the event's own
    time when not given): how long a closed call is remembered, and a lost start waited
    for, counts from it. `offset` is the event's position in its partition: it tells a
    redelivery (after a worker crash, the table's changelog may be ahead of the committed
    offsets) from an event that really came late (see `_closed`).
    """
    if arrived_ms is None:
        arrived_ms = event.ts_ms
    if state is not None and "closed_ms" in state:
        return _closed(state, _NAMES[type(event)], offset)
    state = dict(state) if state else {"answer_ms": 0, "ringing": False,
                                       "seen_ms": arrived_ms}
    if isinstance(event, CallStarted):
        state.setdefault("started", as_dict(event))
        ended = state.pop("ended", None)
        if ended is None:
            return Step(state)
        return _close(state, CallEnded(**ended), arrived_ms, offset)
    if isinstance(event, CallRinging):  # active calls show "ringing" from the start
        state["ringing"] = True
        return Step(state, shown=False)
    if isinstance(event, CallAnswered):
        state["answer_ms"] = state["answer_ms"] or event.ts_ms
        return Step(state)
    assert isinstance(event, CallEnded)
    if "started" not in state:  # wait for the start (out of order), up to late_ms
        state.setdefault("ended", as_dict(event))
        return Step(state)
    return _close(state, event, arrived_ms, offset)


def as_dict(event: CallStarted | CallEnded) -> dict[str, Any]:
    """The event's fields as a new dict (its values are immutable: no deep copy)."""
    kind = type(event)
    return dict(zip(_FIELDS[kind], _VALUES[kind](event), strict=True))


def due(state: State, now_ms: int, limits: Limits) -> bool:
    """Whether `expire` would change this state at `now_ms` (the worker's timer asks)."""
    if "closed_ms" in state:
        return now_ms - int(state["closed_ms"]) >= limits.late_ms
    started = state.get("started")
    if started is not None:
        return now_ms - int(started["ts_ms"]) >= limits.max_call_ms
    return now_ms - int(state.get("seen_ms", 0)) >= limits.late_ms


def expire(state: State, now_ms: int, limits: Limits, offset: int | None = None) -> Step:
    """What a sweep at `now_ms` (at `offset`) does: close a call that outlived the
    longest call, forget a closed call after `late_ms`, give up on events whose start
    never came."""
    closed_at = state.get("offset")
    if "closed_ms" in state and offset is not None and closed_at is not None \
            and offset <= closed_at:
        return _closed(state, "sweep", offset)  # this sweep again, or an older one
    if not due(state, now_ms, limits):
        return Step(state, changed=False)
    if "closed_ms" in state:
        return Step(None)
    started = state.get("started")
    if started is None:
        reason = ENDED_WITHOUT_START if "ended" in state else ORPHAN
        return Step(None, problem=reason)
    end_ms = started["ts_ms"] + limits.max_call_ms
    answer_ms = state["answer_ms"] if 0 < state["answer_ms"] < end_ms else 0
    duration = limits.max_call_ms // 1000
    billsec = (end_ms - answer_ms) // 1000 if answer_ms else 0
    return _close({**state, "answer_ms": answer_ms},
                  CallEnded(started["call_id"], end_ms, 0, billsec, duration), now_ms,
                  offset, closed_by=MAX_DURATION)


def _closed(marker: State, name: str, offset: int | None) -> Step:
    """An event for a call that is closed. The worker processes a partition in order, so
    an event at or before the offset that closed the call was seen before the close and
    comes again only because the worker restarted from its last committed offset: the
    one that closed it finishes the call again (the same CDR: if the first was lost with
    the crash, this one takes its place; if not, ClickHouse keeps one), an earlier one
    changes nothing. Anything after it is late: recorded, not rated."""
    closed_at = marker.get("offset")
    if offset is not None and closed_at is not None and offset <= closed_at:
        if offset < closed_at:
            return Step(marker, changed=False)
        return Step(marker, call=_call(marker["was"], CallEnded(**marker["ended"]),
                                       marker["closed_by"]), changed=False)
    return Step(marker, problem=f"late {name}: the call was already closed", changed=False)


def _close(state: State, event: CallEnded, closed_ms: int, offset: int | None,
           closed_by: str = "") -> Step:
    """The finished call, and the marker that remembers it closed: when (`closed_ms`),
    at which offset, and what it was made of (to finish it again on a redelivery)."""
    marker = {"closed_ms": closed_ms, "offset": offset, "was": state,
              "ended": as_dict(event), "closed_by": closed_by}
    return Step(marker, call=_call(state, event, closed_by))


def _call(state: State, event: CallEnded, closed_by: str) -> Call:
    started = state["started"]
    return Call(
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
        closed_by=closed_by,
    )
