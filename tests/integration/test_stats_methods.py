"""aggregate_get, quickstats_get and local_calls_get over the real Kafka, worker, sink and
ClickHouse.

On 2026-11-20 John (user 2, device 10, extension 201) calls a Lithuanian mobile (60 s)
and a Lithuanian fixed number (120 s) through Carrier A, and Ann's extension 301 (no
answer, no provider); Ann (user 3) calls a mobile (busy) and John's DID (45 s); Rita
(user 9, a user of reseller Rex, user 8) calls a mobile (60 s). John's mobile call is
still live (answered, not ended) at noon. Every call is rated by the worker; then every
CDR is delivered a second time: each counts once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections.clickhouse import connect
from streams.account_events import account_event, encoded
from streams.events import CallAnswered, CallEnded, CallStarted, encode
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS, CALL_EVENTS, TARIFF_EVENTS
from tests.integration.conftest import SECRET
from tests.integration.support import Processes, wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = {"from": "1795132800", "till": "1795219199"}  # 2026-11-20, UTC
DID = "37052000555"
JOHN, ANN, RITA = (2, 10, "37052000201"), (3, 11, "37052000301"), (9, 12, "37052000901")
Event = CallStarted | CallAnswered | CallEnded
USERS: list[dict[str, Any]] = [
    {"user_id": 8, "username": "rex", "first_name": "Rex", "last_name": "Seller",
     "role": "reseller", "owner_id": 0, "currency": "USD", "tariff_id": 1, "timezone": "UTC"},
    {"user_id": 9, "username": "rita", "first_name": "Rita", "last_name": "Client",
     "role": "user", "owner_id": 8, "currency": "USD", "tariff_id": 1, "timezone": "UTC"},
    {"user_id": 7, "username": "acc", "first_name": "Al", "last_name": "Counter",
     "role": "accountant", "owner_id": 0, "currency": "EUR", "tariff_id": 1,
     "timezone": "UTC"},
]


def call(call_id: str, who: tuple[int, int, str], dst: str, minute: int, billsec: int,
         cause: int = 16, provider: bool = True, did: str = "",
         ended: bool = True) -> list[Event]:
    user, device, number = who
    start = T0 + minute * 60_000
    events: list[Event] = [CallStarted(
        call_id, start, user, device, 1, number, dst, number, f"SIP/{number}-{call_id}",
        call_id, provider_id=5 if provider else 0,
        provider_name="Carrier A" if provider else "", did=did)]
    if billsec:
        events.append(CallAnswered(call_id, start + 2_000))
    if ended:
        events.append(CallEnded(call_id, start + 2_000 + billsec * 1000, cause, billsec,
                                2 + billsec))
    return events


CALLS = [
    call("s-mob", JOHN, "37061234567", 0, 60),  # 0.25/min: 0.25; Carrier A 0.12
    call("s-lt", JOHN, "37052123456", 5, 120),  # 0.05/min: 0.1; Carrier A 0.04
    call("s-ext", JOHN, "301", 10, 0, cause=19, provider=False),  # Ann's extension
    call("s-busy", ANN, "37061234567", 15, 0, cause=17),
    call("s-did", ANN, DID, 20, 45, provider=False, did=DID),  # John's DID
    call("s-rita", RITA, "37061234567", 25, 60),  # 0.25, Rex pays 0.25 too
]
LIVE = call("s-live", JOHN, "37061234567", 110, 30, ended=False)  # 11:50, still talking


@pytest.fixture(scope="module")
def delivered(settings: Settings, pipeline: Processes) -> Processes:
    events = [encoded(u["user_id"], account_event("user_created", **u)) for u in USERS]
    events += [encoded(9, account_event("device_created", device_id=12, user_id=9,
                                        device_type="SIP", name="rita", extension="901")),
               encoded(2, account_event("did_created", did=DID, user_id=2,
                                        incoming_tariff_id=0, owner_tariff_id=0,
                                        provider_tariff_id=0))]
    asyncio.run(publish(settings, ACCOUNT_EVENTS, events))
    rate = {"schema": "cdrflow.tariff-event/1", "type": "exchange_rate_set",
            "currency": "EUR", "rate": "0.8", "effective_from_ms": 0}
    asyncio.run(publish(settings, TARIFF_EVENTS, [(b"EUR", orjson.dumps(rate))]))
    client = connect(settings.clickhouse)
    wait_for(lambda: client.execute("SELECT count() FROM users FINAL")[0][0] == 6
             and client.execute("SELECT count() FROM dids FINAL")[0][0] == 1
             and client.execute("SELECT count() FROM devices FINAL")[0][0] == 3
             and client.execute("SELECT count() FROM exchange_rates")[0][0] == 1,
             60, "the reference data projected", pipeline)
    asyncio.run(publish(settings, CALL_EVENTS, [
        (e.call_id.encode(), encode(e)) for events in [*CALLS, LIVE] for e in events]))
    wait_for(lambda: client.execute("SELECT count() FROM cdrs FINAL")[0][0] == len(CALLS)
             and client.execute("SELECT count() FROM active_calls")[0][0] >= 1,
             120, "6 CDRs and the live call", pipeline)
    client.execute("INSERT INTO cdrs SELECT * FROM cdrs")  # every CDR delivered twice
    return pipeline


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=lambda: NOON)) as client:
        yield client


def ask(api: TestClient, method: str, hashed: tuple[str, ...], **params: str) -> str:
    values = [params[name] for name in hashed if name in params]
    answer = api.post(f"/billing/api/{method}",
                      data={**params, "hash": mor_hash(values, SECRET)})
    assert answer.status_code == 200
    return answer.text


def aggregate(api: TestClient, **params: str) -> str:
    return ask(api, "aggregate_get", (), **params)


def figures(indent: str, *values: object) -> str:
    names = ("total_calls", "answered_calls", "asr", "acd", "billsec", "originator_price",
             "terminator_price", "profit", "margin")
    return "".join(f"{indent}<{n}>{v}</{n}>\n" for n, v in zip(names, values, strict=True))


def aggregates(rows: list[str], totals: tuple[object, ...], currency: str = "USD") -> str:
    listed = (f"  <aggregates>\n{''.join(rows)}  </aggregates>\n" if rows
              else "  <aggregates></aggregates>\n")
    return (f"{HEAD}<page>\n  <period>\n    <from>2026-11-20 00:00:00</from>\n"
            f"    <till>2026-11-20 23:59:59</till>\n  </period>\n"
            f"  <currency>{currency}</currency>\n{listed}"
            f"  <totals>\n{figures('    ', *totals)}  </totals>\n</page>\n")


def row(groups: list[tuple[str, object]], *values: object) -> str:
    shown = "".join(f"      <{name}>{value}</{name}>\n" for name, value in groups)
    return f"    <aggregate>\n{shown}{figures('      ', *values)}    </aggregate>\n"


def user_row(user_id: int, name: str, provider: tuple[int, str], *values: object) -> str:
    return row([("originator_id", user_id), ("originator", name),
                ("terminator_id", provider[0]), ("terminator", provider[1]),
                ("dst_group", "")], *values)


CARRIER, NONE = (5, "Carrier A"), (0, "")
ADMIN_ROWS = [
    user_row(2, "John Smith", NONE, 1, 0, "0.00", "0.00", 0, "0.0", "0.0", "0.0", "0.00"),
    user_row(2, "John Smith", CARRIER, 2, 2, "100.00", "90.00", 180, "0.35", "0.16", "0.19",
             "54.29"),
    # through John's DID: Ann pays her retail rate, 45 s at 0.05/min; no provider
    user_row(3, "Ann Jones", NONE, 1, 1, "100.00", "45.00", 45, "0.0375", "0.0", "0.0375",
             "100.00"),
    user_row(3, "Ann Jones", CARRIER, 1, 0, "0.00", "0.00", 0, "0.0", "0.0", "0.0", "0.00"),
    user_row(9, "Rita Client", CARRIER, 1, 1, "100.00", "60.00", 60, "0.25", "0.12", "0.13",
             "52.00"),
]


def test_aggregate_as_admin_and_accountant(delivered: Processes, api: TestClient) -> None:
    admin = aggregate(api, u="admin", **DAY)
    assert admin == aggregates(ADMIN_ROWS, (6, 4, "66.67", "71.25", 285, "0.6375", "0.28",
                                            "0.3575", "56.08"))
    assert aggregate(api, u="acc", a_currency="USD", **DAY) == admin


def test_aggregate_filters_and_groupings(delivered: Processes, api: TestClient) -> None:
    assert aggregate(api, u="admin", s_originator_id="2", s_provider="5", a_dst="3706",
                     group_by_dst="1", group_by_hour="1", **DAY) == aggregates(
        [row([("dst", "3706"), ("destination", "Lithuania MOB"),
              ("hour", "2026-11-20 10:00")],
             1, 1, "100.00", "60.00", 60, "0.25", "0.12", "0.13", "52.00")],
        (1, 1, "100.00", "60.00", 60, "0.25", "0.12", "0.13", "52.00"))
    # in EUR at 0.8 per USD, with the real answered time (2 s answer to end: the same)
    assert aggregate(api, u="admin", a_currency="EUR", s_device="10", s_duration="100",
                     use_real_billsec="1", group_by_device="1", **DAY) == aggregates(
        [row([("device_id", 10), ("device", "SIP/201")],
             1, 1, "100.00", "120.00", "120.000", "0.08", "0.032", "0.048", "60.00")],
        (1, 1, "100.00", "120.00", "120.000", "0.08", "0.032", "0.048", "60.00"), "EUR")


def test_aggregate_as_reseller_and_user(delivered: Processes, api: TestClient) -> None:
    assert aggregate(api, u="rex", **DAY) == aggregates(
        [row([("originator_id", 9), ("originator", "Rita Client"), ("dst_group", "")],
             1, 1, "100.00", "60.00", 60, "0.25", "0.25", "0.0", "0.00")],
        (1, 1, "100.00", "60.00", 60, "0.25", "0.25", "0.0", "0.00"))
    assert aggregate(api, u="john", **DAY) == (
        f"{HEAD}<page>\n  <error>You are not authorized to use this functionality</error>\n"
        "</page>\n")


@pytest.mark.parametrize(("u", "params", "text"), [
    ("admin", {"s_originator_id": "99"}, "User was not found"),
    ("rex", {"s_originator_id": "2"}, "User was not found"),
    ("admin", {"s_device": "99"}, "Device was not found"),
    ("rex", {"s_device": "10"}, "Device was not found"),
    ("admin", {"s_terminator_id": "99"}, "Terminator was not found"),
    ("admin", {"s_provider": "99"}, "Provider was not found"),
    ("rex", {"s_provider": "5"}, "Provider was not found"),
    ("admin", {"a_currency": "GBP"}, "Invalid parameter: a_currency"),
])
def test_aggregate_errors(delivered: Processes, api: TestClient, u: str,
                          params: dict[str, str], text: str) -> None:
    assert aggregate(api, u=u, **params) == f"{HEAD}<page>\n  <error>{text}</error>\n</page>\n"


def quickstats(api: TestClient, u: str, *values: object) -> None:
    names = ("calls", "duration", "revenue", "self_cost", "profit", "margin")
    today = "".join(f"      <{n}>{v}</{n}>\n" for n, v in zip(names, values[:6], strict=True))
    hashed = () if u == "admin" else ("u",)
    assert ask(api, "quickstats_get", hashed, u=u) == (
        f"{HEAD}<page>\n  <quickstats>\n    <today>\n{today}    </today>\n"
        f"    <active_calls>\n      <total>{values[6]}</total>\n"
        f"      <answered_calls>{values[7]}</answered_calls>\n    </active_calls>\n"
        "  </quickstats>\n</page>\n")


def test_quickstats(delivered: Processes, api: TestClient) -> None:
    quickstats(api, "admin", 4, 285, "0.6375", "0.28", "0.3575", "56.08", 1, 1)
    quickstats(api, "acc", 4, 285, "0.51", "0.224", "0.286", "56.08", 1, 1)  # EUR at 0.8
    quickstats(api, "rex", 1, 60, "0.25", "0.25", "0.0", "0.00", 0, 0)
    quickstats(api, "john", 2, 180, "0.35", "0.0", "0.0", "0.00", 1, 1)


def local_calls(api: TestClient, **params: str) -> str:
    return ask(api, "local_calls_get", ("from", "till", "s_user"), **params)


def local_call(date: str, device: str, caller_id: str, channel: str, user: str,
               terminator: str) -> str:
    return ("    <call>\n      <calldate>\n"
            f"        <date>{date}</date>\n        <timezone>UTC</timezone>\n"
            "      </calldate>\n"
            f"      <orignator_device>{device}</orignator_device>\n"
            f"      <orignator_caller_id>{caller_id}</orignator_caller_id>\n"
            "      <orignator_ip></orignator_ip>\n"
            f"      <orignator_channel>{channel}</orignator_channel>\n"
            f"      <terminator_user>{user}</terminator_user>\n"
            f"      <terminator_device>{terminator}</terminator_device>\n"
            "      <terminator_ip></terminator_ip>\n    </call>\n")


LOCAL = (f"{HEAD}<page>\n  <local_calls>\n"
         + local_call("2026-11-20 10:10:00", "SIP/201", "37052000201",
                      "SIP/37052000201-s-ext", "Ann Jones", "SIP/301")
         + local_call("2026-11-20 10:20:00", "SIP/301", "37052000301",
                      "SIP/37052000301-s-did", "John Smith", "")
         + "  </local_calls>\n</page>\n")


def test_local_calls(delivered: Processes, api: TestClient) -> None:
    assert local_calls(api, u="admin", s_user="2", **DAY) == LOCAL
    assert local_calls(api, u="ann", **DAY) == LOCAL
    assert local_calls(api, u="rita", **DAY) == (
        f"{HEAD}<page>\n  <local_calls></local_calls>\n</page>\n")
    assert local_calls(api, u="rex", s_user="2", **DAY) == (
        f"{HEAD}<page>\n  <status>\n    <error>User was not found</error>\n  </status>\n"
        "</page>\n")

