"""fax_received call events: validation, dead-letter reasons, rows and the page's filter."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from aiokafka import ConsumerRecord

from api.errors import ApiError
from api.faxes import fax_filter
from api.params import Params
from projections import faxes, writer
from projections.faxes import FaxFilter
from streams.events import (
    FAX_STATUSES,
    SCHEMA,
    BadEvent,
    CallRinging,
    FaxReceived,
    decode,
    encode,
)
from streams.sink import fax_rows

FAX = FaxReceived("fax-1", 1_795_168_800_250, 2, 12, "37052000999", "fax-1.pdf", 3,
                  "received")


def body(**changes: object) -> bytes:
    data: dict[str, Any] = {"schema": SCHEMA, "type": "fax_received", "call_id": "fax-1",
                            "ts_ms": 1_795_168_800_250, "user_id": 2, "device_id": 12,
                            "sender": "37052000999", "filename": "fax-1.pdf", "pages": 3,
                            "status": "received"}
    data.update(changes)
    return orjson.dumps({k: v for k, v in data.items() if v is not ...})


def test_round_trip_and_empty_filename_and_no_pages() -> None:
    assert decode(encode(FAX)) == FAX
    assert decode(body()) == FAX
    empty = decode(body(filename="", sender="", pages=0, status="empty"))
    assert isinstance(empty, FaxReceived)
    assert (empty.filename, empty.sender, empty.pages, empty.status) == ("", "", 0, "empty")


def test_every_status_is_accepted_and_has_a_display_word() -> None:
    for status in FAX_STATUSES:
        event = decode(body(status=status))
        assert isinstance(event, FaxReceived) and event.status == status
    assert FAX_STATUSES["received"] == "Received"


@pytest.mark.parametrize(("raw", "reason"), [
    (body(status="Received"), "fax_received: field status must be one of received, failed, "
                              "empty, not_fax, not 'Received'"),
    (body(status="lost"), "fax_received: field status must be one of "),
    (body(status=1), "fax_received: field status must be a string"),
    (body(status=...), "fax_received: field status is missing"),
    (body(pages=-1), "fax_received: field pages must be a non-negative integer"),
    (body(pages="3"), "fax_received: field pages must be a non-negative integer"),
    (body(pages=2.0), "fax_received: field pages must be a non-negative integer"),
    (body(pages=10_001), "fax_received: field pages is more than 10000"),
    (body(device_id=...), "fax_received: field device_id is missing"),
    (body(user_id=True), "fax_received: field user_id must be a non-negative integer"),
    (body(call_id=""), "fax_received: field call_id is empty"),
    (body(sender=None), "fax_received: field sender must be a string"),
    (body(filename="x" * 300), "fax_received: field filename is longer than 256 characters"),
    (body(schema="cdrflow.call-event/2"), "unknown schema 'cdrflow.call-event/2'"),
])
def test_bad_faxes_say_why(raw: bytes, reason: str) -> None:
    with pytest.raises(BadEvent) as caught:
        decode(raw)
    assert str(caught.value).startswith(reason)


def record(value: bytes, offset: int = 7) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("faxes", 0, offset, 0, 0, b"2", value, None, len(b"2"), len(value),
                          [])


def test_the_sink_row_is_keyed_by_the_fax_id_and_versioned_by_offset() -> None:
    rows = list(fax_rows(record(encode(FAX), offset=41)))
    assert rows == [("faxes", ("fax-1", 2, 12, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), 250,
                               "37052000999", "fax-1.pdf", 3, "received", 41))]
    assert len(rows[0][1]) == len(faxes.COLUMNS) == len(writer.TABLES["faxes"])


@pytest.mark.parametrize(("value", "reason"), [
    (b"{", "not JSON"),
    (body(status="lost"), "fax_received: field status must be one of"),
    (encode(CallRinging("c-1", 5)), "not a fax_received event on faxes"),
])
def test_the_sink_refuses_what_is_not_a_fax_with_a_reason(value: bytes, reason: str) -> None:
    with pytest.raises(ValueError) as caught:  # the sink dead-letters ValueErrors
        list(fax_rows(record(value)))
    assert str(caught.value).startswith(reason)


NOW = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
VILNIUS = ZoneInfo("Europe/Vilnius")


def test_the_page_shows_today_in_the_users_zone_by_default() -> None:
    where, shown = fax_filter(Params(), 2, VILNIUS, NOW)  # 01:30 on the 21st in Vilnius
    assert (where, shown) == (FaxFilter(2, 1795212000, 1795298399), "all")


def test_the_page_takes_days_epoch_seconds_status_and_device() -> None:
    params = Params({"period_start": "2026-11-20", "period_end": "1795219199",
                     "fax_status": "Failed", "device_id": "12", "search_on": "1"})
    where, shown = fax_filter(params, 2, UTC, NOW)
    assert (where, shown) == (FaxFilter(2, 1795132800, 1795219199, "failed", 12), "12")
    where, _ = fax_filter(Params({"period_end": "2026-11-20"}), 2, UTC, NOW)
    assert where.end == 1795219199


@pytest.mark.parametrize(("name", "value"), [
    ("period_start", "2026-13-01"), ("period_start", "20.11.2026"), ("period_end", "-5"),
    ("period_end", "999999999999"), ("fax_status", "lost"), ("device_id", "FAX/102"),
    ("search_on", "yes"),
])
def test_invalid_page_parameters_are_named(name: str, value: str) -> None:
    with pytest.raises(ApiError) as caught:
        fax_filter(Params({name: value}), 2, UTC, NOW)
    assert caught.value.message == f"Invalid parameter: {name}"
