import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.events import (
    SCHEMA,
    BadEvent,
    CallAnswered,
    CallEnded,
    CallRinging,
    CallStarted,
    Sweep,
    decode,
    encode,
)

STARTED = CallStarted("c-1", 1_700_000_000_000, 2, 10, 1, "37052000201", "37061234567",
                      "37052000201", "SIP/201-0001", "1700000000.000000")


@pytest.mark.parametrize("event", [
    STARTED,
    CallRinging("c-1", 1_700_000_000_300),
    CallAnswered("c-1", 1_700_000_005_000),
    CallEnded("c-1", 1_700_000_025_000, 16, 20, 25),
    Sweep(1_700_000_030_000, ("c-1", "c-2")),
])
def test_round_trip(event: object) -> None:
    assert decode(encode(event)) == event  # type: ignore[arg-type]


def test_provider_fields_are_optional() -> None:
    body = orjson.loads(encode(STARTED))
    del body["provider_id"], body["provider_name"]
    assert decode(orjson.dumps(body)) == STARTED


def bad(**changes: object) -> bytes:
    body = {"schema": SCHEMA, "type": "call_ended", "call_id": "c-1", "ts_ms": 5,
            "hangup_cause": 16, "billsec": 20, "duration": 25}
    body.update(changes)
    return orjson.dumps({k: v for k, v in body.items() if v is not ...})


@pytest.mark.parametrize(("raw", "reason"), [
    (None, "empty message"),
    (b"{not json", "not JSON: "),
    (b"[1, 2]", "event is not a JSON object"),
    (bad(schema="cdrflow.call-event/9"), "unknown schema 'cdrflow.call-event/9'"),
    (bad(type="call_exploded"), "unknown event type 'call_exploded'"),
    (bad(billsec=...), "call_ended: field billsec is missing"),
    (bad(billsec="20"), "call_ended: field billsec must be a non-negative integer"),
    (bad(billsec=-1), "call_ended: field billsec must be a non-negative integer"),
    (bad(billsec=True), "call_ended: field billsec must be a non-negative integer"),
    (bad(billsec=30), "billsec is greater than duration"),
    (bad(duration=10**9), "call_ended: field duration is longer than 604800 s"),
    (bad(call_id=""), "call_ended: field call_id is empty"),
    (bad(call_id=7), "call_ended: field call_id must be a string"),
    (bad(call_id="x" * 300), "call_ended: field call_id is longer than 256 characters"),
    (b" " * 70_000, "event larger than 65536 bytes"),
    (bad(call_id="c-1\x00"), "call_ended: field call_id contains control characters"),
    (bad(call_id="c\n1"), "call_ended: field call_id contains control characters"),
    (bad(call_id="c\x7f1"), "call_ended: field call_id contains control characters"),
    (orjson.dumps({"schema": SCHEMA, "type": "sweep", "ts_ms": 5, "call_ids": []}),
     "sweep: field call_ids must be a list of 1 to 1000 call ids"),
    (orjson.dumps({"schema": SCHEMA, "type": "sweep", "ts_ms": 5, "call_ids": "c-1"}),
     "sweep: field call_ids must be a list of 1 to 1000 call ids"),
    (orjson.dumps({"schema": SCHEMA, "type": "sweep", "ts_ms": 5, "call_ids": ["c-1", 7]}),
     "sweep: every call id must be a non-empty string of at most 256 characters"),
    (orjson.dumps({"schema": SCHEMA, "type": "sweep", "call_ids": ["c-1"]}),
     "sweep: field ts_ms is missing"),
])
def test_bad_events_say_why(raw: bytes | None, reason: str) -> None:
    with pytest.raises(BadEvent) as caught:
        decode(raw)
    assert str(caught.value).startswith(reason)


@given(st.binary(max_size=300))
def test_any_bytes_decode_or_raise_bad_event(raw: bytes) -> None:
    try:
        decode(raw)
    except BadEvent:
        pass
