"""service_created and subscription_added: checks, records and the projections' rows."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

import pytest

from projections import account_tables, subscriptions
from streams.account_events import account_event, parse_account_event
from streams.subscription_events import (
    SERVICE_CREATED,
    SUBSCRIPTION_ADDED,
    Service,
    Subscription,
)

START = 1_790_812_800_000  # 2026-10-01 00:00 UTC
END = 1_793_491_200_000  # 2026-11-01 00:00 UTC


def service(**changes: Any) -> dict[str, Any]:
    body = account_event(SERVICE_CREATED, service_id=5, name=" Static IP ", price="10.00",
                         currency="USD")
    body.update(changes)
    return body


def subscription(**changes: Any) -> dict[str, Any]:
    body = account_event(SUBSCRIPTION_ADDED, subscription_id=9, user_id=2, service_id=5,
                         added_ms=START - 1000, activation_start_ms=START,
                         activation_end_ms=0)
    body.update(changes)
    return body


def test_a_service_parses_to_its_record_and_row() -> None:
    record = parse_account_event(service())
    assert record == Service(5, "Static IP", Decimal("10.00"), "USD")
    assert list(account_tables.rows_of(record, 7)) == [
        ("services", (5, "Static IP", Decimal("10.00"), "USD", 7))]
    assert len(subscriptions.SERVICE_COLUMNS) == len(fields(Service)) + 1
    assert account_tables.TABLES["services"] == subscriptions.SERVICE_COLUMNS


def test_a_subscription_parses_to_its_record_and_row() -> None:
    record = parse_account_event(subscription(activation_end_ms=END))
    assert record == Subscription(9, 2, 5, START - 1000, START, END)
    assert list(account_tables.rows_of(record, 8)) == [
        ("subscriptions", (9, 2, 5, START - 1000, START, END, 8))]
    assert len(subscriptions.SUBSCRIPTION_COLUMNS) == len(fields(Subscription)) + 1
    assert account_tables.TABLES["subscriptions"] == subscriptions.SUBSCRIPTION_COLUMNS


def test_the_end_is_optional_and_open_ended() -> None:
    body = subscription()
    del body["activation_end_ms"]
    record = parse_account_event(body)
    assert isinstance(record, Subscription)
    assert record.activation_end_ms == 0
    assert record.active_between(END * 10, END * 10 + 1)


@pytest.mark.parametrize(("change", "reason"), [
    ({"service_id": 0}, "service_id must not be 0"),
    ({"name": "  "}, "name must be 1 to 200 characters"),
    ({"name": "x" * 201}, "name must be 1 to 200 characters"),
    ({"price": "-1"}, "price must be from 0"),
    ({"price": "0.0000001"}, "with at most 6 decimals"),
    ({"price": "1000000000000"}, "price must be from 0 to below"),
    ({"price": "ten"}, "field price is not a decimal number"),
    ({"price": 10}, "field price must be a string"),
    ({"currency": "usd"}, "currency must be an ISO 4217 code"),
])
def test_bad_services_are_refused(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_account_event(service(**change))


@pytest.mark.parametrize(("change", "reason"), [
    ({"subscription_id": 0}, "subscription_id and service_id must not be 0"),
    ({"service_id": 0}, "subscription_id and service_id must not be 0"),
    ({"activation_start_ms": 0}, "activation_start_ms must be a moment"),
    ({"activation_end_ms": START}, "activation_end_ms must be after activation_start_ms"),
    ({"user_id": -1}, "field user_id must be a non-negative integer"),
    ({"added_ms": None}, "field added_ms must be a non-negative integer"),
])
def test_bad_subscriptions_are_refused(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_account_event(subscription(**change))


@pytest.mark.parametrize(("start", "end", "active"), [
    (START, 0, True),
    (START - 5, START, False),  # ended the moment the window starts (the end is exclusive)
    (START - 5, START + 1, True),
    (END, 0, False),  # starts the moment the window ends
    (END - 1, END + 5, True),
])
def test_active_between_is_an_overlap_of_half_open_intervals(start: int, end: int,
                                                             active: bool) -> None:
    assert Subscription(1, 2, 3, 0, start, end).active_between(START, END) is active
