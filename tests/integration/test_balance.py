"""projections.balance against a real ClickHouse: the call charges must equal the sum over
`cdrs FINAL` whatever was delivered twice, re-rated or merged (one fresh database per test)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from uuid import uuid4

import pytest
from clickhouse_driver import Client

from cdrflow.settings import ClickHouseEndpoint
from projections.balance import balance
from projections.clickhouse import connect, migrate
from tests.integration.test_queries import cdr, insert_cdrs

pytestmark = pytest.mark.integration


@pytest.fixture
def client(clickhouse_endpoint: ClickHouseEndpoint) -> Iterator[Client]:
    endpoint = replace(clickhouse_endpoint, database=f"t_{uuid4().hex[:8]}")
    migrate(endpoint)
    client = connect(endpoint)
    try:
        yield client
    finally:
        client.execute(f"DROP DATABASE IF EXISTS `{endpoint.database}`")
        client.disconnect()


def final_charges(client: Client, user_id: int) -> Decimal:
    (found,) = client.execute(
        "SELECT toString(sum(user_price)) FROM cdrs FINAL WHERE user_id = %(u)s", {"u": user_id})
    return Decimal(found[0])


MONTH = 31 * 86400
CALLS = [
    cdr("a", 0, user_price=Decimal("0.25")),
    cdr("b", 60, user_price=Decimal("1.500000")),
    cdr("c", MONTH, user_price=Decimal("0.000001")),  # another partition
    cdr("a", 0, user_id=6, user_price=Decimal(7)),  # the same call id, another user
]


def test_duplicates_and_new_versions_are_charged_once_as_final_does(client: Client) -> None:
    insert_cdrs(client, *CALLS)
    assert balance(client, 5) == -Decimal("1.750001") == -final_charges(client, 5)
    insert_cdrs(client, *CALLS)  # the same batch delivered twice
    assert balance(client, 5) == -Decimal("1.750001") == -final_charges(client, 5)
    insert_cdrs(client, cdr("a", 0, version=2, user_price=Decimal("0.3")))  # re-rated
    insert_cdrs(client, CALLS[0])  # a late redelivery of the first version
    assert balance(client, 5) == -Decimal("1.800001") == -final_charges(client, 5)
    assert balance(client, 6) == Decimal(-7)
    client.execute("OPTIMIZE TABLE cdrs FINAL")
    assert balance(client, 5) == -Decimal("1.800001") == -final_charges(client, 5)


def test_no_calls_no_charges(client: Client) -> None:
    assert balance(client, 5) == Decimal(0)
    insert_cdrs(client, cdr("x", 0, user_id=6))
    assert balance(client, 5) == Decimal(0)
