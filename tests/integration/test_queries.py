"""projections.queries against a real ClickHouse (18.16 locally), one fresh database per test."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import uuid4

import pytest
from clickhouse_driver import Client

from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import ClickHouseEndpoint, Settings
from projections import queries
from projections.clickhouse import connect, migrate
from projections.queries import ORDER_COLUMNS, CallFilter

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.integration

DAY = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp())


@pytest.fixture
def database(clickhouse_endpoint: ClickHouseEndpoint) -> Iterator[ClickHouseEndpoint]:
    endpoint = replace(clickhouse_endpoint, database=f"t_{uuid4().hex[:8]}")
    migrate(endpoint)
    try:
        yield endpoint
    finally:
        connect(endpoint, database="default").execute(
            f"DROP DATABASE IF EXISTS `{endpoint.database}`"
        )


@pytest.fixture
def client(database: ClickHouseEndpoint) -> Iterator[Client]:
    client = connect(database)
    yield client
    client.disconnect()


def insert_users(client: Client, *users: dict[str, Any]) -> None:
    defaults = {"first_name": "", "last_name": "", "role": "user", "owner_id": 0,
                "currency": "USD", "tariff_id": 0, "timezone": "", "version": 1}  # fmt: skip
    rows = [{**defaults, **user} for user in users]
    columns = list(rows[0])
    client.execute(
        f"INSERT INTO users ({', '.join(columns)}) VALUES",
        [tuple(row[column] for column in columns) for row in rows],
    )


def cdr(call_id: str, offset: int, **values: Any) -> dict[str, Any]:
    """A cdrs row `offset` seconds after DAY; every other column has a plain default."""
    row: dict[str, Any] = {
        "call_id": call_id, "version": 1,
        "calldate": datetime.fromtimestamp(DAY + offset, UTC), "calldate_ms": 0,
        "user_id": 5, "device_id": 1, "server_id": 1, "src": "101", "dst": "37060000000",
        "clid": "101", "disposition": "ANSWERED", "hangup_cause": 16, "duration": 30,
        "billsec": 20, "prefix": "3706", "destination": "Lithuania", "currency": "EUR",
        "user_rate": Decimal("0.1"), "user_price": Decimal("0.033333"), "provider_id": 0,
        "provider_name": "", "provider_rate": Decimal(0), "provider_price": Decimal(0),
        "reseller_id": 0, "reseller_rate": Decimal(0), "reseller_price": Decimal(0),
        "did": "", "did_inc_price": Decimal(0), "did_price": Decimal(0),
        "did_prov_price": Decimal(0), "profit": Decimal(0),
    }  # fmt: skip
    row.update(values)
    return row


def insert_cdrs(client: Client, *rows: dict[str, Any]) -> None:
    columns = list(rows[0])
    client.execute(
        f"INSERT INTO cdrs ({', '.join(columns)}) VALUES",
        [tuple(row[column] for column in columns) for row in rows],
    )


def ids(client: Client, **changes: Any) -> list[str]:
    where = replace(CallFilter(user_id=5, start=DAY, end=DAY + 86399), **changes)
    return [call.call_id for call in queries.calls(client, where)]


CALLS = [
    cdr("a", 0),
    cdr("b", 3600, calldate_ms=500, disposition="NO ANSWER", hangup_cause=19, billsec=0,
        dst="44200000000", device_id=2, user_price=Decimal(0)),
    cdr("c", 3600, calldate_ms=500, disposition="BUSY", hangup_cause=17, billsec=0,
        dst="37069999999", provider_id=4, provider_name="Zeta", user_price=Decimal(0)),
    cdr("d", 7200, disposition="FAILED", hangup_cause=34, billsec=0, did="37052000000",
        provider_id=4, provider_name="Alpha", user_price=Decimal(0)),
    cdr("e", 86399, did="37052000001", user_price=Decimal("2.500000"), reseller_id=2,
        src="999", dst="1", profit=Decimal("-0.000001")),
    cdr("other-user", 10, user_id=6),
    cdr("day-before", -1),
    cdr("day-after", 86400),
]  # fmt: skip


def test_users_by_name_and_id_read_the_latest_version(client: Client) -> None:
    insert_users(
        client,
        {"user_id": 1, "username": "admin", "role": "admin"},
        {"user_id": 5, "username": "bob", "first_name": "Bob", "owner_id": 2, "version": 1},
        {"user_id": 5, "username": "bob", "first_name": "Robert", "owner_id": 2, "version": 7,
         "currency": "EUR", "timezone": "Europe/Vilnius"},
        {"user_id": 2, "username": "res", "role": "reseller", "last_name": "Šeller"},
    )  # fmt: skip
    bob = queries.user_by_username(client, "bob")
    assert bob == queries.User(5, "bob", "Robert", "", "user", 2, "EUR", "Europe/Vilnius")
    assert queries.user_by_id(client, 5) == bob
    assert queries.user_by_username(client, "nobody") is None
    assert queries.user_by_id(client, 99) is None
    assert queries.user_by_id(client, 2**64 - 1) is None
    found = queries.users_by_ids(client, [2, 1, 99])
    assert sorted(found) == [1, 2] and found[2].nice_name == "Šeller"
    assert queries.users_by_ids(client, []) == {}
    assert queries.users_by_ids(client, [5]) == {5: bob}


def test_period_is_inclusive_and_limited_to_the_user(client: Client) -> None:
    insert_cdrs(client, *CALLS)
    assert ids(client) == ["a", "b", "c", "d", "e"]
    assert ids(client, start=DAY + 3600, end=DAY + 3600) == ["b", "c"]
    assert ids(client, start=DAY + 86399, end=DAY + 86399) == ["e"]
    assert ids(client, start=DAY + 10, end=DAY) == []
    assert [c.call_id for c in queries.calls(client, CallFilter(6, 0, 2**40))] == ["other-user"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"disposition": "ANSWERED"}, ["a", "e"]),
        ({"disposition": "NO ANSWER"}, ["b"]),
        ({"disposition": "BUSY"}, ["c"]),
        ({"disposition": "FAILED"}, ["d"]),
        ({"device_id": 2}, ["b"]),
        ({"device_id": 2**64 - 1}, []),
        ({"provider_id": 4}, ["c", "d"]),
        ({"hangup_cause": 19}, ["b"]),
        ({"hangup_cause": 70000}, []),
        ({"dst_prefix": "3706"}, ["a", "c", "d"]),
        ({"dst_prefix": "370699"}, ["c"]),
        ({"dst_prefix": "x' OR 1=1 --"}, []),
        ({"did": "37052000000"}, ["d"]),
        ({"only_did": True}, ["d", "e"]),
        ({"only_did": True, "provider_id": 4}, ["d"]),
    ],
)
def test_filters(client: Client, changes: dict[str, Any], expected: list[str]) -> None:
    insert_cdrs(client, *CALLS)
    assert ids(client, **changes) == expected


@pytest.mark.parametrize(
    ("order_by", "descending", "expected"),
    [
        ("time", False, ["a", "b", "c", "d", "e"]),
        ("time", True, ["e", "d", "b", "c", "a"]),
        ("p_name", False, ["a", "b", "e", "d", "c"]),
        ("p_name", True, ["c", "d", "a", "b", "e"]),
        ("u_price", True, ["e", "a", "b", "c", "d"]),
        ("src", True, ["e", "a", "b", "c", "d"]),
        ("number", False, ["e", "a", "d", "c", "b"]),
    ],
)
def test_ordering_is_deterministic(
    client: Client, order_by: str, descending: bool, expected: list[str]
) -> None:
    insert_cdrs(client, *CALLS)
    assert ids(client, order_by=order_by, order_desc=descending) == expected


@pytest.mark.parametrize("order_by", sorted(ORDER_COLUMNS))
def test_every_order_by_runs(client: Client, order_by: str) -> None:
    insert_cdrs(client, *CALLS)
    assert sorted(ids(client, order_by=order_by, order_desc=True)) == ["a", "b", "c", "d", "e"]


def test_final_hides_redelivered_and_rerated_rows(client: Client) -> None:
    insert_cdrs(client, *CALLS)
    insert_cdrs(client, *CALLS)
    insert_cdrs(client, cdr("a", 0, version=2, user_price=Decimal("0.050000")))
    assert client.execute("SELECT count() FROM cdrs") == [(len(CALLS) * 2 + 1,)]
    calls = queries.calls(client, CallFilter(5, DAY, DAY + 86399))
    assert [call.call_id for call in calls] == ["a", "b", "c", "d", "e"]
    assert calls[0].user_price == Decimal("0.05")


def test_call_values_round_trip(client: Client) -> None:
    insert_cdrs(
        client,
        cdr("x", 5, calldate_ms=999, clid='"Jonas" <101>', destination="Lietuva, mobilūs",
            profit=Decimal("-0.000001"), user_price=Decimal("123456789012.123456")),
    )  # fmt: skip
    (call,) = queries.calls(client, CallFilter(5, 0, 2**40))
    assert call.calldate == datetime.fromtimestamp(DAY + 5, UTC)
    assert call.calldate_ms == 999
    assert call.clid == '"Jonas" <101>' and call.destination == "Lietuva, mobilūs"
    assert call.profit == Decimal("-0.000001")
    assert call.user_price == Decimal("123456789012.123456")
    assert call.disposition == "ANSWERED" and call.hangup_cause == 16


def test_user_calls_get_end_to_end(database: ClickHouseEndpoint, client: Client) -> None:
    insert_users(
        client,
        {"user_id": 1, "username": "admin", "role": "admin"},
        {"user_id": 2, "username": "res", "role": "reseller", "first_name": "Res"},
        {"user_id": 5, "username": "bob", "owner_id": 2, "currency": "EUR",
         "timezone": "Europe/Vilnius"},
    )  # fmt: skip
    insert_cdrs(client, *CALLS)
    insert_cdrs(client, *CALLS)
    settings = Settings(api_secret="k", clickhouse=database)
    app = create_app(settings, partial(connect, database))
    form = {"u": "admin", "s_user": "5", "period_start": str(DAY), "period_end": str(DAY + 86399),
            "order_by": "time", "order_desc": "1"}  # fmt: skip
    values = [form[name] for name in ("s_user", "period_start", "period_end", "order_by",
                                      "order_desc")]  # fmt: skip
    with TestClient(app) as http:
        response = http.post(
            "/billing/api/user_calls_get", data={**form, "hash": mor_hash(values, "k")}
        )
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    assert root.tag == "page", response.text
    assert root.findtext("total_calls") == "5"
    assert root.findtext("calls_stat/period/period_start") == "2024-03-01 02:00:00"
    calls = root.findall("calls_stat/calls/call")
    assert calls[0].findtext("calldate2") == "2024-03-02 01:59:59"
    assert calls[0].findtext("nice_reseller") == "Res"
    assert calls[0].findtext("user_price") == "2.5"
    assert calls[0].findtext("profit") == "-0.000001"
    assert [c.findtext("dispod") for c in calls][1:4] == ["FAILED(34)", "NO ANSWER(19)", "BUSY(17)"]
