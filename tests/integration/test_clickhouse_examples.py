"""Every ```sql block of docs/clickhouse.md, run against known CDRs with exact results.

The CDRs are inserted directly, all of them twice, and call a2 once more re-rated with a
higher version and a higher price: every documented query must count each call once, as
last rated. A statement without an expected result here (a new example) fails the test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.rows import cdr_row
from projections.writer import insert
from rating.cdr import Cdr

pytestmark = pytest.mark.integration

DOC = Path(__file__).parents[2] / "docs" / "clickhouse.md"
DID = "37052000555"
NOV20 = datetime(2026, 11, 20, tzinfo=UTC)
NOV21 = datetime(2026, 11, 21, tzinfo=UTC)


def cdr(call_id: str, day: datetime, hour: int, user_id: int, destination: str,
        disposition: str, cause: int, billsec: int = 0, price: str = "0", cost: str = "0",
        provider_id: int = 5, did: str = "", did_price: str = "0") -> Cdr:
    start = int(day.timestamp() * 1000) + hour * 3_600_000
    return Cdr(call_id=call_id, version=1, start_ms=start,
               answer_ms=start + 1000 if billsec else 0, end_ms=start + (billsec + 3) * 1000,
               user_id=user_id, device_id=user_id * 10, server_id=1, uniqueid=call_id,
               channel="SIP/x", src=f"3706000000{user_id}", dst=did or "4930123456",
               clid="", disposition=disposition, hangup_cause=cause, duration=billsec + 3,
               billsec=billsec, user_billsec=billsec, prefix="49", destination=destination,
               tariff_id=1, tariff_version=1, currency="USD", user_rate=Decimal("0.1"),
               user_price=Decimal(price), provider_id=provider_id,
               provider_name=f"Carrier {provider_id}" if provider_id else "",
               provider_price=Decimal(cost), profit=Decimal(price) - Decimal(cost), did=did,
               did_price=Decimal(did_price))


CDRS = [
    cdr("a1", NOV20, 10, 2, "Germany", "ANSWERED", 16, 60, "0.10", "0.04"),
    cdr("a2", NOV20, 11, 2, "Germany", "ANSWERED", 16, 120, "0.20", "0.08"),
    cdr("a3", NOV20, 12, 2, "France MOB", "NO ANSWER", 19),
    cdr("b1", NOV20, 10, 3, "Germany", "FAILED", 34),  # no circuit: a network failure
    cdr("a4", NOV21, 9, 2, "USA", "ANSWERED", 16, 30, "0.05", "0.01"),
    cdr("b2", NOV21, 10, 3, "Lithuania", "ANSWERED", 16, 90, "0.09", provider_id=0, did=DID,
        did_price="0.01"),
    cdr("b3", NOV21, 11, 3, "Lithuania", "NO ANSWER", 19, provider_id=0, did=DID),
    cdr("b4", NOV21, 12, 3, "France MOB", "ANSWERED", 16, 45, "0.30", "0.20", provider_id=6),
]
# a2 re-rated: the user price went up, the provider's cost did not
RERATED = replace(CDRS[1], version=2, user_price=Decimal("0.25"), profit=Decimal("0.17"))
D20, D21 = date(2026, 11, 20), date(2026, 11, 21)


def at(day: datetime, hour: int) -> datetime:
    return day.replace(hour=hour)


# Each documented statement, by its first comment line, and its exact result.
EXPECTED: dict[str, list[tuple[Any, ...]]] = {
    "-- one row per call, the highest version wins": [(4,)],
    "-- the same without FINAL, when you need to aggregate a large range fast": [
        ("a1", Decimal("0.10")), ("a2", Decimal("0.25")), ("a3", Decimal(0)),
        ("a4", Decimal("0.05"))],
    "-- calls and money per user and day, deduplicated": [
        (2, D20, 3, Decimal("0.35"), Decimal("0.23")),
        (3, D20, 1, Decimal(0), Decimal(0)),
        (2, D21, 1, Decimal("0.05"), Decimal("0.04")),
        (3, D21, 3, Decimal("0.39"), Decimal("0.19"))],
    "-- answered share (ASR) and average call length (ACD) per destination": [
        ("Germany", 2 / 3, 90.0), ("France MOB", 0.5, 45.0), ("Lithuania", 0.5, 90.0),
        ("USA", 1.0, 30.0)],
    "-- revenue, provider cost and profit per day, every user together": [
        (D20, 4, Decimal("0.35"), Decimal("0.12"), Decimal("0.23")),
        (D21, 4, Decimal("0.44"), Decimal("0.21"), Decimal("0.23"))],
    "-- top 2 destinations per user by answered seconds (LIMIT BY, not a window function)": [
        (2, "Germany", 2, 180, Decimal("0.35")), (2, "USA", 1, 30, Decimal("0.05")),
        (3, "Lithuania", 2, 90, Decimal("0.09")), (3, "France MOB", 1, 45, Decimal("0.30"))],
    "-- calls through one DID (to its owner), newest first": [
        (at(NOV21, 11), "b3", 3, "37060000003", "NO ANSWER", 0, Decimal(0)),
        (at(NOV21, 10), "b2", 3, "37060000003", "ANSWERED", 90, Decimal("0.01"))],
    "-- ASR (%), ACD (s) and NER (%) per provider in a period, counted as call_quality_get": [
        (5, 5, 3, 60.0, 70.0, 80.0), (0, 2, 1, 50.0, 90.0, 100.0),
        (6, 1, 1, 100.0, 45.0, 100.0)],
}


def documented_statements() -> list[tuple[str, str]]:
    """(first comment line, SQL without the final `;`) of every statement in every
    ```sql block of docs/clickhouse.md; a block may hold several, each ending with `;`."""
    statements = []
    for block in DOC.read_text().split("```sql")[1:]:
        text = block.split("```", 1)[0]
        for statement in text.split(";\n"):
            sql = statement.strip().removesuffix(";").strip()
            if sql:
                assert sql.startswith("--"), f"an example without a naming comment: {sql}"
                statements.append((sql.splitlines()[0], sql))
    return statements


@pytest.fixture(scope="module")
def cdrs(settings: Settings) -> None:
    client = connect(settings.clickhouse)
    rows = [cdr_row(c) for c in CDRS]
    insert(client, "cdrs", rows)
    insert(client, "cdrs", [*rows, cdr_row(RERATED)])  # delivered twice, a2 re-rated


def test_every_example_has_an_expected_result() -> None:
    assert [name for name, _ in documented_statements()] == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_documented_example_gives_exactly(name: str, settings: Settings, cdrs: None) -> None:
    sql = dict(documented_statements())[name]
    assert connect(settings.clickhouse).execute(sql) == EXPECTED[name]
