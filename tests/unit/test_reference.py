from decimal import Decimal

import pytest

from cdrflow.demo_data import account_events, tariff_event
from rating.reference import ReferenceData, parse_reference_event


def test_the_demo_reference_data_applies() -> None:
    data = ReferenceData()
    for event in [*account_events(), tariff_event()]:
        data.apply(event)
    assert sorted(data.accounts) == [0, 2, 3]
    assert data.providers[5].tariff_id == 2
    assert data.accounts[2].username == "john"
    assert data.devices[10].user_id == 2
    tariff = data.tariffs.in_force(1, 0)
    assert tariff is not None and tariff.rates["3706"][0].price_per_minute == Decimal("0.25")


def test_user_updated_replaces_the_user() -> None:
    data = ReferenceData()
    user = account_events()[1]
    data.apply(user)
    data.apply({**user, "type": "user_updated", "currency": "EUR"})
    assert data.accounts[2].currency == "EUR"


def broken_tariff(**rate: object) -> dict[str, object]:
    good = {"prefix": "370", "rate": "0.05"}
    return {**tariff_event(), "rates": [{**good, **rate}]}


@pytest.mark.parametrize(("event", "reason"), [
    ({"schema": "x", "type": "user_created"}, "unknown reference event 'x'/'user_created'"),
    ({**account_events()[1], "role": "boss"}, "user_created: role must be one of"),
    ({**account_events()[1], "user_id": -1}, "field user_id must be a non-negative integer"),
    ({**account_events()[1], "user_id": 2**63}, "field user_id must be a non-negative integer"),
    ({**account_events()[1], "username": 5}, "field username must be a string"),
    ({**tariff_event(), "rates": "all"}, "field rates must be a list of objects"),
    (broken_tariff(rate="cheap"), "rates[0]: field rate is not a decimal number: 'cheap'"),
    (broken_tariff(rate="NaN"), "rates[0]: field rate must be finite"),
    (broken_tariff(rate=0.05), "rates[0]: field rate must be a string"),
    (broken_tariff(rate="-1"), "rates[0]: a tier's price must not be negative"),
    (broken_tariff(prefix="+370"), "rates[0]: rate prefix must be digits, got '+370'"),
    (broken_tariff(increment=0), "rates[0]: a tier's increment must be at least 1 second"),
    (broken_tariff(start_time="8:00"), "rates[0]: field start_time must be HH:MM:SS"),
    (broken_tariff(end_time="24:00:01"), "rates[0]: field end_time must be a time of day"),
    (broken_tariff(days="weekday"), "rates[0]: days must be one of all, work, free"),
    ({**tariff_event(), "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({**tariff_event(), "currency": "usd"}, "field currency must be an ISO 4217 code"),
    ({**tariff_event(), "holidays": ["25.12.2026"]}, "field holidays must list dates"),
    ({**tariff_event(), "rounding": "nearest"}, "rounding must be one of"),
])
def test_bad_reference_events_say_why(event: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_reference_event(event)
    assert str(caught.value).startswith(reason)
