from dataclasses import replace

import orjson
from aiokafka import ConsumerRecord

from streams.call_end import UrlBook, call_params
from streams.webhook_events import CallEndWebhook
from streams.webhooks import routed
from tests.unit.test_call_end import CDR


def record(value: bytes, timestamp: int = 1_000) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("cdrs", 0, 5, timestamp, 0, b"c-1", value, None, 3, len(value), ())


def cdr_bytes(**changes: object) -> bytes:
    return orjson.dumps(replace(CDR, **changes).to_dict())  # type: ignore[arg-type]


def book_with(url: str = "http://crm.example/", at: int = 1_000, device_id: int = 10) -> UrlBook:
    book = UrlBook()
    book.apply(CallEndWebhook(2, device_id, url, at))
    return book


def test_a_cdr_written_while_its_device_has_a_url_is_rekeyed_by_device() -> None:
    key, value = routed(record(cdr_bytes()), book_with()) or (b"", b"")
    assert key == b"10"
    assert orjson.loads(value) == {"user_id": 2, "device_id": 10, "call_id": "c-1",
                                   "params": [list(pair) for pair in call_params(CDR)]}


def test_the_users_url_covers_every_device() -> None:
    assert routed(record(cdr_bytes(device_id=11)), book_with(device_id=0)) is not None


def test_nothing_is_posted_without_a_url_when_the_cdr_was_written() -> None:
    assert routed(record(cdr_bytes()), UrlBook()) is None
    assert routed(record(cdr_bytes(), timestamp=999), book_with()) is None
    assert routed(record(cdr_bytes(device_id=11)), book_with()) is None
    assert routed(record(cdr_bytes(user_id=3)), book_with()) is None
    assert routed(record(cdr_bytes(), timestamp=2_000), book_with("", at=1_500)) is None


def test_a_rerated_version_or_a_bad_cdr_is_not_posted() -> None:
    assert routed(record(cdr_bytes(version=2)), book_with()) is None
    assert routed(record(b"{not json"), book_with()) is None
    assert routed(record(b'{"schema": "cdrflow.cdr/1"}'), book_with()) is None
