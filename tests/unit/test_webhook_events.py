from datetime import UTC, datetime

import pytest

from projections.account_tables import rows_of
from streams.account_events import account_event, parse_account_event
from streams.webhook_events import CallEndWebhook


def event(**changes: object) -> dict[str, object]:
    return account_event("call_end_webhook_set", **{
        "user_id": 2, "device_id": 10, "url": "https://crm.example/hook?key=1",
        "set_ms": 1_795_168_800_250, **changes})


def test_a_setting_is_parsed_and_projected() -> None:
    hook = parse_account_event(event())
    assert hook == CallEndWebhook(2, 10, "https://crm.example/hook?key=1", 1_795_168_800_250)
    assert list(rows_of(hook, 77)) == [("call_end_webhooks", (
        2, 10, "https://crm.example/hook?key=1", datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        77))]


def test_an_empty_url_removes_and_device_zero_means_every_device() -> None:
    assert parse_account_event(event(url="", device_id=0)) == CallEndWebhook(
        2, 0, "", 1_795_168_800_250)


@pytest.mark.parametrize(("changes", "reason"), [
    ({"url": "ftp://crm.example/"}, "url must start with http:// or https:// and name a host"),
    ({"url": "crm.example/hook"}, "url must start with http:// or https:// and name a host"),
    ({"url": "http:///hook"}, "url must start with http:// or https:// and name a host"),
    ({"url": "http://crm.example/a b"}, "url must be ASCII without spaces"),
    ({"url": "http://crm.example/\u00e4"}, "url must be ASCII without spaces"),
    ({"url": "http://crm.example:99999/"}, "url is not a URL"),
    ({"url": "http://crm.example/#top"}, "url must not have a #fragment"),
    ({"url": "http://crm.example/" + "a" * 1000}, "url is longer than 1000 characters"),
    ({"url": None}, "field url must be a string"),
    ({"device_id": -1}, "field device_id must be a non-negative integer"),
    ({"user_id": "2"}, "field user_id must be a non-negative integer"),
    ({"set_ms": None}, "field set_ms must be a non-negative integer"),
])
def test_a_bad_setting_is_refused(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_account_event(event(**changes))
