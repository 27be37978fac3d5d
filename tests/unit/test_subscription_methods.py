"""subscriptions_get over an in-memory reader: golden XML for each role and each
documented error."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from projections.subscriptions import UserSubscription, subscription_list
from streams.subscription_events import Service, Subscription
from tests.unit.test_payment_methods import HEAD, MoneyReader, ask

STATIC_IP = Service(5, "Static IP", Decimal("10.00"), "USD")
JOHN_IP = UserSubscription(Subscription(701, 2, 5, 1_787_638_500_000, 1_788_210_000_000, 0),
                           STATIC_IP)
BOB_GONE = UserSubscription(Subscription(702, 6, 9, 1_787_638_500_000, 1_790_812_800_000,
                                         1_793_491_200_000), None)
JOHN_XML = (
    "    <subscription>\n      <id>701</id>\n      <user>John Smith</user>\n"
    "      <device></device>\n      <service>Static IP</service>\n"
    "      <from>2026-09-01 00:00:00</from>\n      <till></till>\n"
    "      <time_left></time_left>\n      <memo></memo>\n      <type>periodic</type>\n"
    "      <price>10.0</price>\n      <user_id>2</user_id>\n    </subscription>\n")
BOB_XML = (
    "    <subscription>\n      <id>702</id>\n      <user>Bob Brown</user>\n"
    "      <device></device>\n      <service></service>\n"
    "      <from>2026-10-01 00:00:00</from>\n      <till>2026-11-01 00:00:00</till>\n"
    "      <time_left></time_left>\n      <memo></memo>\n      <type>periodic</type>\n"
    "      <price></price>\n      <user_id>6</user_id>\n    </subscription>\n")


def reader(*found: UserSubscription) -> MoneyReader:
    return MoneyReader({subscription_list: lambda **scope: list(found)})


def listed(*rows: str) -> str:
    return f"{HEAD}<page>\n  <subscriptions>\n{''.join(rows)}  </subscriptions>\n</page>\n"


def denied(text: str) -> str:
    return f"{HEAD}<page>\n  <status>\n    <error>{text}</error>\n  </status>\n</page>\n"


def test_subscriptions_get_as_admin() -> None:
    found = reader(JOHN_IP, BOB_GONE)
    assert ask("subscriptions_get", {"u": "admin"}, ("user_id",), found) == listed(JOHN_XML,
                                                                                    BOB_XML)
    assert found.asked[-1][2] == {"owner_id": None, "user_id": None}


@pytest.mark.parametrize(("caller", "params", "scope"), [
    ("acc", {}, {"owner_id": None, "user_id": None}),
    ("admin", {"user_id": "6"}, {"owner_id": None, "user_id": 6}),
    ("res", {}, {"owner_id": 5, "user_id": None}),
    ("res", {"user_id": "6"}, {"owner_id": 5, "user_id": 6}),
    ("john", {}, {"owner_id": None, "user_id": 2}),
    ("john", {"user_id": "2"}, {"owner_id": None, "user_id": 2}),
])
def test_subscriptions_get_is_limited_to_what_the_caller_sees(
        caller: str, params: dict[str, str], scope: dict[str, Any]) -> None:
    found = reader(BOB_GONE)
    answer = ask("subscriptions_get", {"u": caller, **params}, ("user_id",), found)
    assert answer == listed(BOB_XML)
    assert found.asked[-1][2] == scope


def test_a_user_asking_for_another_users_subscriptions_finds_none() -> None:
    found = reader(JOHN_IP)
    answer = ask("subscriptions_get", {"u": "john", "user_id": "3"}, ("user_id",), found)
    assert answer == denied("No Subscriptions found")
    assert all(read is not subscription_list for read, _, _ in found.asked)


@pytest.mark.parametrize(("params", "hashed", "text"), [
    ({"u": "admin"}, ("user_id",), "No Subscriptions found"),
    ({"u": "nobody"}, ("user_id",), "Access Denied"),
    ({"u": "admin", "user_id": "2"}, (), "Incorrect hash"),
    ({"u": "admin", "user_id": "x"}, ("user_id",), "Invalid parameter: user_id"),
])
def test_subscriptions_get_errors(params: dict[str, str], hashed: tuple[str, ...],
                                  text: str) -> None:
    assert ask("subscriptions_get", params, hashed, reader()) == denied(text)
