"""The account methods (api/users.py, api/balance.py) against the real Kafka, ClickHouse,
sink and worker: users_get's balances are projections.balance's, an update becomes
visible in user_details_get and reaches rating, and the balance methods answer it."""

from __future__ import annotations

import asyncio
import re
import time
from decimal import Decimal
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.balance import four
from api.hash import mor_hash
from api.users import DETAILS_HASHED, UPDATE_HASHED
from cdrflow.demo_data import tariff_event
from cdrflow.settings import Settings
from projections.balance import balance
from projections.clickhouse import connect
from projections.rows import cdr_row
from projections.writer import insert
from rating.reference import ACCOUNT_SCHEMA
from streams.events import CallAnswered, CallEnded, CallStarted, encode
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS, CALL_EVENTS, TARIFF_EVENTS
from tests.integration.support import Processes, wait_for
from tests.integration.test_personal import cdr

pytestmark = pytest.mark.integration

SECRET = "456789"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
EXTRA_USERS = [
    {"user_id": 5, "username": "res", "role": "reseller", "owner_id": 0, "currency": "USD",
     "tariff_id": 1, "timezone": "UTC"},
    {"user_id": 6, "username": "bob", "first_name": "Bob", "role": "user", "owner_id": 5,
     "currency": "USD", "tariff_id": 1, "timezone": "UTC"},
]
# tariff 7: the demo's rates plus China, which tariff 1 has no rate for
CHINA = {**tariff_event(1), "tariff_id": 7, "name": "With China",
         "rates": [*tariff_event(1)["rates"], {"prefix": "86", "destination": "China",
                                               "rate": "0.12"}]}


def post(api: TestClient, method: str, hashed: tuple[str, ...], **params: str) -> str:
    values = [params[name] for name in hashed if name in params]
    return api.post(f"/billing/api/{method}",
                    data={**params, "hash": mor_hash(values, SECRET)}).text


def listed(answer: str) -> dict[int, str]:
    """users_get's users: id -> balance."""
    return {int(i): b for i, b in re.findall(
        r"<id>(\d+)</id>.*?<balance>([^<]*)</balance>", answer, re.S)}


def china_call(call_id: str, now_ms: int) -> list[tuple[bytes, bytes]]:
    events: list[Any] = [
        CallStarted(call_id, now_ms - 40_000, 2, 10, 1, "37052000201", "8613800138000",
                    "37052000201", "SIP/201-9", call_id),
        CallAnswered(call_id, now_ms - 35_000),
        CallEnded(call_id, now_ms - 5_000, 16, 30, 35),
    ]
    return [(call_id.encode(), encode(event)) for event in events]


def test_users_details_update_rating_and_balances(settings: Settings, pipeline: Processes,
                                                  api: TestClient) -> None:
    client = connect(settings.clickhouse)
    asyncio.run(publish(settings, ACCOUNT_EVENTS, [
        (str(u["user_id"]).encode(), orjson.dumps(
            {"schema": ACCOUNT_SCHEMA, "type": "user_created", **u})) for u in EXTRA_USERS]))
    asyncio.run(publish(settings, TARIFF_EVENTS, [(b"7", orjson.dumps(CHINA))]))
    wait_for(lambda: client.execute("SELECT count() FROM users FINAL")[0][0] == 5, 60,
             "the extra users projected", pipeline)
    wait_for(lambda: client.execute(
        "SELECT count() FROM tariff_rates WHERE tariff_id = 7 AND part = 'completed'")[0][0]
        == 1, 60, "tariff 7 projected", pipeline)

    # balances: users_get's are projections.balance's, whatever was delivered twice
    charges = [cdr_row(cdr("acct-1", "0.25")), cdr_row(cdr("acct-2", "1.123456")),
               cdr_row(cdr("acct-3", "3", user_id=6))]
    insert(client, "cdrs", charges)
    insert(client, "cdrs", charges)
    everyone = listed(post(api, "users_get", (), u="admin"))
    assert sorted(everyone) == [0, 2, 3, 5, 6]
    assert everyone == {i: four(balance(client, i)) for i in everyone}
    assert everyone[2] == "-1.3735" and everyone[6] == "-3.0000"
    assert listed(post(api, "users_get", (), u="res")) == {5: "0.0000", 6: "-3.0000"}
    assert post(api, "users_get", (), u="john") == (
        f"{HEAD}<page>\n  <status>\n    <error>Access Denied</error>\n  </status>\n</page>\n")

    # an update: the new tariff, VAT and city, visible in user_details_get ...
    assert post(api, "user_details_update", UPDATE_HASHED, u="admin", user_id="2", u5="7",
                tax1_value="21", reg_city="Riga") == (
        f"{HEAD}<page>\n  <status>User was updated</status>\n</page>\n")
    assert post(api, "user_details_update", UPDATE_HASHED, u="res", user_id="2",
                u5="1") == f"{HEAD}<page>\n  <error>User was not found</error>\n</page>\n"

    def details() -> str:
        return post(api, "user_details_get", DETAILS_HASHED, u="admin", user_id="2")

    wait_for(lambda: "<reg_city>Riga</reg_city>" in details()
             and "<vat_percent>21.0</vat_percent>" in details(), 5, "the update visible")
    assert "<balance>-1.3735 USD</balance>" in details()
    assert post(api, "user_details_get", DETAILS_HASHED, u="bob", user_id="2") == (
        f"{HEAD}<page>\n  <error>User was not found</error>\n</page>\n")

    # ... and in rating: a call to China (only tariff 7 rates it) with 21 % VAT
    now_ms = int(time.time() * 1000)
    asyncio.run(publish(settings, CALL_EVENTS, china_call("acct-china", now_ms)))
    wait_for(lambda: client.execute(
        "SELECT count() FROM cdrs FINAL WHERE call_id = 'acct-china'")[0][0] == 1, 120,
        "the China call rated", pipeline)
    ((tariff_id, tax, price, with_tax),) = client.execute(
        "SELECT tariff_id, tax_percent, user_price, user_price_with_tax FROM cdrs FINAL "
        "WHERE call_id = 'acct-china'")
    assert (tariff_id, tax, price, with_tax) == (7, Decimal(21), Decimal("0.06"),
                                                 Decimal("0.0726"))

    # the balance methods answer the same balance, the call included
    expected = four(balance(client, 2))
    assert expected == "-1.4335"
    with TestClient(create_app(settings.with_(api_balance=True))) as http:
        assert post(http, "user_balance_get", ("username", "currency"), u="admin",
                    username="john", user_currency="1") == (
            f"{HEAD}<page>\n  <balance>{expected}</balance>\n  <currency>USD</currency>\n"
            "</page>\n")
        assert http.post("/billing/api/user_balance_get_by_username/201").text == (
            f"{HEAD}<page>\n  <balance>{expected}</balance>\n</page>\n")
        assert http.post("/billing/api/user_balance_get_by_psw/anything").text == (
            f"{HEAD}<page>\n  <error>User was not found</error>\n</page>\n")
    assert api.post("/billing/api/user_balance_get_by_username/201").text == (
        f"{HEAD}<page>\n  <error>Feature disabled</error>\n</page>\n")

    # updates in a row: each answer waits until the projections show its change, so the
    # next one (which carries the whole account and details) is built on it
    updated = f"{HEAD}<page>\n  <status>User was updated</status>\n</page>\n"
    for change in ({"u23": "Robert"}, {"tax1_value": "5", "reg_city": "Oslo"},
                   {"u17": "Stone", "reg_phone": "370600"}, {"u5": "7"}):
        assert post(api, "user_details_update", UPDATE_HASHED, u="admin", user_id="6",
                    **change) == updated
    bob = post(api, "user_details_get", DETAILS_HASHED, u="admin", user_id="6")
    for shown in ("<first_name>Robert</first_name>", "<surname>Stone</surname>",
                  "<vat_percent>5.0</vat_percent>", "<reg_city>Oslo</reg_city>",
                  "<reg_phone>370600</reg_phone>"):
        assert shown in bob, (shown, bob)
    assert client.execute("SELECT tariff_id, tax_percent, first_name, last_name FROM users "
                          "FINAL WHERE user_id = 6") == [(7, Decimal(5), "Robert", "Stone")]
