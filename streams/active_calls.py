"""The state of a live call as the worker publishes it to `active-calls` (pure, no I/O).

`active_call` turns the worker's `live-calls` entry into the small JSON object that
feeds active_calls_get (docs/active_calls.md); the worker sends it, keyed by the call
id, after call_started and call_answered (a call_ringing changes nothing shown: a
started call is ringing already), and a tombstone (value None)
after call_ended. The value depends only on the events applied so far and the
reference data, so a redelivered event publishes the same state again: harmless.
"""

from __future__ import annotations

from typing import Any

from rating.reference import ReferenceData
from streams.assembly import State


def active_call(state: State | None, data: ReferenceData | None) -> dict[str, Any] | None:
    """The published state of a live call; None while call_started has not arrived
    (ringing or answered alone say nothing about who calls whom)."""
    started = state.get("started") if state else None
    if state is None or started is None:
        return None
    answered_ms = int(state["answer_ms"])
    value: dict[str, Any] = {
        "call_id": started["call_id"],
        "user_id": started["user_id"],
        "device_id": started["device_id"],
        "src": started["src"],
        "dst": started["dst"],
        "provider_id": started.get("provider_id", 0),
        "provider_name": started.get("provider_name", ""),
        "server_id": started["server_id"],
        "started_ms": started["ts_ms"],
        "answered_ms": answered_ms,
        "status": "answered" if answered_ms else "ringing",
        "did": started.get("did", ""),
        "uniqueid": started["uniqueid"],
        "channel": started["channel"],
    }
    if data is not None:
        value.update(_known(data, value))
    return value


def _known(data: ReferenceData, call: dict[str, Any]) -> dict[str, Any]:
    """What the reference data tells cheaply: the destination in the user's tariff
    (as the user price side of rating would match it) and the DID's owner. Left out
    when unknown: the reader shows empty elements then."""
    known: dict[str, Any] = {}
    did = data.dids.get(call["did"]) if call["did"] else None
    if did is not None and did.user_id:
        known["dst_user_id"] = did.user_id
    account = data.accounts.get(call["user_id"])
    tariff = data.tariffs.in_force(account.tariff_id, call["started_ms"]) if account else None
    if tariff is None:
        return known
    digits = tariff.numbers.normalise(call["dst"])
    known["localized_dst"] = digits
    rates = tariff.match_digits(digits)
    if rates:
        destination = rates[0].destination
        known.update(prefix=destination.prefix, destination=destination.name,
                     direction=destination.direction,
                     destination_group=destination.group)
    return known
