"""rate_get, tariffs_get, tariff_rates_get and callback_init over the real Kafka and
ClickHouse: the demo tariffs as the sink projects them, and a callback request on its
topic."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import orjson
import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.hash import mor_hash
from api.xml import money
from cdrflow.demo_data import PROVIDER_RATES, RATES
from cdrflow.settings import Settings
from rating.reference import ACCOUNT_SCHEMA
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS, CALLBACK_REQUESTS
from tests.integration.support import read_topic, wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
SECRET = "456789"


@pytest.fixture
def rate_api(settings: Settings) -> Iterator[TestClient]:
    """The API with "rate over HTTP" on."""
    with TestClient(create_app(settings.with_(api_rate=True))) as client:
        yield client


def post(api: TestClient, method: str, u: str, hashed: list[str], **params: str) -> str:
    return api.post(f"/billing/api/{method}",
                    data={"u": u, **params, "hash": mor_hash(hashed, SECRET)}).text


def page_error(text: str) -> str:
    return f"{HEAD}<page>\n  <error>{text}</error>\n</page>\n"


def tariff(tariff_id: int, name: str, purpose: str) -> str:
    return (f"    <tariff>\n      <id>{tariff_id}</id>\n      <name>{name}</name>\n"
            f"      <purpose>{purpose}</purpose>\n      <currency>USD</currency>\n"
            "      <last_update_date>1970-01-01 00:00:00 +0000</last_update_date>\n"
            "    </tariff>\n")


def tariffs_page(*entries: str) -> str:
    return f"{HEAD}<page>\n  <tariffs>\n{''.join(entries)}  </tariffs>\n</page>\n"


def tariff_page(name: str, purpose: str, rates: list[tuple[str, str, str, str, int, int]]
                ) -> str:
    """The wholesale page of a demo tariff (every demo rate is a wholesale rate, in force
    all day every day, with no direction or kind)."""
    rows = "".join(
        "    <rate>\n      <direction></direction>\n"
        f"      <destination>{destination}</destination>\n      <prefix>{prefix}</prefix>\n"
        f"      <subcode></subcode>\n      <tariff_rate>{money(Decimal(price))}</tariff_rate>\n"
        f"      <con_fee>{money(Decimal(fee))}</con_fee>\n"
        f"      <increment>{increment}</increment>\n      <min_time>{min_time}</min_time>\n"
        "      <start_time>00:00:00</start_time>\n      <end_time>23:59:59</end_time>\n"
        "      <daytype></daytype>\n"
        "      <effective_from>1970-01-01 00:00:00</effective_from>\n    </rate>\n"
        for prefix, destination, price, fee, min_time, increment in sorted(rates))
    return (f"{HEAD}<page>\n  <pagename>Tariff</pagename>\n  <tariff_name>{name}</tariff_name>\n"
            f"  <purpose>{purpose}</purpose>\n  <currency>USD</currency>\n"
            f"  <rates>\n{rows}  </rates>\n</page>\n")


def test_tariffs_and_rates_from_the_projected_demo_tariffs(sink: object,
                                                            rate_api: TestClient) -> None:
    every = tariffs_page(tariff(1, "Demo retail", "user_wholesale"),
                         tariff(2, "Carrier A buy", "provider"))
    wait_for(lambda: post(rate_api, "tariffs_get", "admin", []) == every, 60,
             "both demo tariffs listed")
    assert post(rate_api, "tariffs_get", "john", ["john"]) == tariffs_page(
        tariff(1, "Demo retail", "user_wholesale"))

    assert post(rate_api, "tariff_rates_get", "admin", ["2"], tariff_id="2") == tariff_page(
        "Carrier A buy", "provider", PROVIDER_RATES)
    demo = tariff_page("Demo retail", "user_wholesale", RATES)
    assert "<prefix>491</prefix>" in demo and "<min_time>30</min_time>" in demo
    assert post(rate_api, "get_tariff", "john", []) == demo
    assert post(rate_api, "tariff_rates_get", "admin", ["3"], user_id="3") == demo
    assert post(rate_api, "tariff_rates_get", "john", ["3"], user_id="3") == page_error(
        "No tariff found")
    assert post(rate_api, "tariff_rates_get", "admin", ["9"], tariff_id="9") == page_error(
        "No tariff found")
    assert post(rate_api, "tariff_rates_get", "nobody", []) == page_error("Bad login")

    def rate(u: str, username: str, **params: str) -> str:
        return post(rate_api, "rate_get", u, [username], username=username, **params)

    assert rate("john", "john", prefix="3706") == (
        f"{HEAD}<page>\n  <rate>0.25#Lithuania MOB#3706</rate>\n</page>\n")
    assert rate("admin", "ann", prefix="4915112345678", by_full_dst="1") == (
        f"{HEAD}<page>\n  <rate>0.22#Germany MOB#491</rate>\n</page>\n")
    assert rate("admin", "ann", prefix="4915112345678") == page_error("Rate was not found")
    assert rate("john", "ann", prefix="370") == page_error("User was not found")


def test_rate_get_needs_rate_over_http(sink: object, api: TestClient) -> None:
    assert post(api, "rate", "john", ["john"], username="john", prefix="370") == page_error(
        "Feature disabled")


def test_callback_init_appends_a_callback_request(sink: object, api: TestClient,
                                                  settings: Settings) -> None:
    def callback(u: str, device: str, **params: str) -> str:
        sent = {"device": device, "dst": "37061234567", "src": "37052000201"}
        return api.post("/billing/api/callback_init", data={
            "u": u, **sent, **params, "hash": mor_hash(sent.values(), SECRET)}).text

    assert callback("john", "11") == f"{HEAD}<Status>Bad device</Status>\n"
    assert callback("nobody", "10") == f"{HEAD}<Status>Not authenticated</Status>\n"
    answer = callback("john", "10", callback_uniqueid="1", server_id="1")
    records = asyncio.run(read_topic(settings, CALLBACK_REQUESTS))
    assert len(records) == 1
    key, value = records[0]
    event = orjson.loads(value or b"")
    assert key == b"2"
    assert answer == f'{HEAD}<Status uniqueid="{event["uniqueid"]}">Ok</Status>\n'
    assert event["uniqueid"].endswith(f".{event['request_id']}")
    assert {k: event[k] for k in ("schema", "user_id", "device_id", "src", "dst",
                                  "requested_by", "server_id")} == {
        "schema": "cdrflow.callback-request/1", "user_id": 2, "device_id": 10,
        "src": "37052000201", "dst": "37061234567", "requested_by": 2, "server_id": 1}


def test_a_reseller_sees_his_and_his_users_tariffs(sink: object, rate_api: TestClient,
                                                   settings: Settings) -> None:
    users = [
        {"user_id": 20, "username": "res", "role": "reseller", "owner_id": 0, "tariff_id": 2},
        {"user_id": 21, "username": "rita", "role": "user", "owner_id": 20, "tariff_id": 1},
    ]
    events = [(str(u["user_id"]).encode(), orjson.dumps({
        "schema": ACCOUNT_SCHEMA, "type": "user_created", "first_name": "", "last_name": "",
        "currency": "USD", "timezone": "UTC", **u})) for u in users]
    asyncio.run(publish(settings, ACCOUNT_EVENTS, events))
    both = tariffs_page(tariff(1, "Demo retail", "user_wholesale"),
                        tariff(2, "Carrier A buy", "provider"))
    wait_for(lambda: post(rate_api, "tariffs_get", "res", []) == both, 60,
             "the reseller's tariffs listed")
    assert post(rate_api, "tariffs_get", "rita", []) == tariffs_page(
        tariff(1, "Demo retail", "user_wholesale"))
    provider = tariff_page("Carrier A buy", "provider", PROVIDER_RATES)
    assert post(rate_api, "tariff_rates_get", "res", []) == provider
    assert post(rate_api, "tariff_rates_get", "res", ["1"], tariff_id="1") == tariff_page(
        "Demo retail", "user_wholesale", RATES)
    assert post(rate_api, "tariff_rates_get", "res", ["21"], user_id="21") == tariff_page(
        "Demo retail", "user_wholesale", RATES)
    assert post(rate_api, "tariff_rates_get", "res", ["2"], user_id="2") == page_error(
        "No tariff found")
    assert post(rate_api, "rate_get", "res", ["rita"], username="rita", prefix="44") == (
        f"{HEAD}<page>\n  <rate>0.04#United Kingdom#44</rate>\n</page>\n")
    assert post(rate_api, "rate_get", "res", ["john"], username="john", prefix="44") == (
        page_error("User was not found"))
