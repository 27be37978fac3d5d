"""Rows of the tariff_rates and exchange_rates tables from every tariff event, and the
choice of a version's complete publication (pure: no ClickHouse)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from projections.tariff_rates import (
    COLUMNS,
    EXCHANGE_COLUMNS,
    Marker,
    Publication,
    is_wholesale,
    parse_tiers,
    publications,
    rows_of,
    tiers_text,
    wholesale,
)
from rating.tariff import Destination, Rate, Tier
from rating.tariff_events import TARIFF_SCHEMA, parse_tariff_event

D = Decimal


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"schema": TARIFF_SCHEMA, "type": kind, **fields}


HEADER = {"tariff_id": 7, "version": 3, "name": "Retail", "currency": "EUR",
          "effective_from_ms": 1000, "effective_until_ms": 9000}
RATES = [
    {"prefix": "370", "destination": "Lithuania", "direction": "Lithuania", "kind": "fixed",
     "group": "Baltics", "rate": "0.05"},
    {"prefix": "3706", "destination": "Lithuania MOB", "direction": "Lithuania",
     "kind": "mobile", "rate": "0.12", "connection_fee": "0.01", "min_time": 30,
     "increment": 30, "days": "work", "start_time": "08:00:00", "end_time": "18:00:00",
     "grace_time": 2},
    {"prefix": "44", "destination": "United Kingdom",
     "tiers": [{"start": 0, "end": 60, "price": "0.10", "increment": 60},
               {"start": 60, "price": "0.05", "increment": 1},
               {"start": 0, "price": "0.02", "kind": "event"}]},
]


def rows(raw: dict[str, Any], partition: int = 1, offset: int = 40) -> list[dict[str, Any]]:
    found = []
    for table, row in rows_of(parse_tariff_event(raw), partition, offset):
        columns = COLUMNS if table == "tariff_rates" else EXCHANGE_COLUMNS
        assert len(row) == len(columns)
        found.append({"table": table, **dict(zip(columns, row, strict=True))})
    return found


def test_tariff_published_is_a_header_its_rates_and_a_completion_at_one_offset() -> None:
    found = rows(event("tariff_published", **HEADER, rates=RATES))
    assert [r["part"] for r in found] == ["started", "rate", "rate", "rate", "completed"]
    assert {(r["tariff_id"], r["tariff_version"], r["event_partition"], r["event_offset"])
            for r in found} == {(7, 3, 1, 40)}
    header, first, mobile, tiered, done = found
    assert (header["name"], header["currency"], header["effective_from_ms"],
            header["effective_until_ms"], header["prefix"]) == ("Retail", "EUR", 1000, 9000, "")
    assert done["rate_count"] == 3 and done["effective_until_ms"] is None
    assert [r["rate_index"] for r in found[1:4]] == [0, 1, 2]
    assert (first["prefix"], first["destination"], first["direction"], first["kind"],
            first["destination_group"], first["days"], first["start_second"],
            first["end_second"], first["price_per_minute"], first["connection_fee"],
            first["min_time"], first["increment"], first["tiers"]) == (
        "370", "Lithuania", "Lithuania", "fixed", "Baltics", "all", 0, 86400,
        D("0.05"), D(0), 0, 1, "0-@0.05/1")
    assert (mobile["days"], mobile["start_second"], mobile["end_second"],
            mobile["grace_time"], mobile["price_per_minute"], mobile["connection_fee"],
            mobile["min_time"], mobile["increment"], mobile["tiers"]) == (
        "work", 28800, 64800, 2, D("0.12"), D("0.01"), 30, 30, "0@0.01!;0-30@0.12/30;30-@0.12/30")
    assert tiered["tiers"] == "0-60@0.10/60;60-@0.05/1;0@0.02!"
    assert (tiered["price_per_minute"], tiered["connection_fee"], tiered["increment"]) == (
        D("0.10"), D("0.02"), 60)


def test_a_version_in_parts_gives_the_same_rates_as_one_event() -> None:
    started = rows(event("tariff_version_started", **HEADER), offset=10)
    added = rows(event("tariff_rates_added", tariff_id=7, version=3, rates=RATES[:2]),
                 offset=11) + rows(event("tariff_rates_added", tariff_id=7, version=3,
                                         rates=RATES[2:]), offset=12)
    done = rows(event("tariff_version_published", tariff_id=7, version=3, rate_count=3),
                offset=13)
    assert [r["part"] for r in started] == ["started"]
    assert started[0]["currency"] == "EUR" and started[0]["effective_until_ms"] == 9000
    assert [(r["part"], r["event_offset"], r["rate_index"]) for r in added] == [
        ("rate", 11, 0), ("rate", 11, 1), ("rate", 12, 0)]
    assert [(r["part"], r["rate_count"], r["event_offset"]) for r in done] == [
        ("completed", 3, 13)]
    whole = rows(event("tariff_published", **HEADER, rates=RATES))[1:4]
    ignore = {"event_offset", "rate_index"}
    assert ([{k: v for k, v in r.items() if k not in ignore} for r in added]
            == [{k: v for k, v in r.items() if k not in ignore} for r in whole])


def test_exchange_rate_set_is_one_row_versioned_by_its_offset() -> None:
    found = rows(event("exchange_rate_set", currency="EUR", rate="0.92",
                       effective_from_ms=5), offset=77)
    assert found == [{"table": "exchange_rates", "currency": "EUR", "effective_from_ms": 5,
                      "rate": D("0.92"), "version": 77}]


def test_the_same_record_twice_gives_the_same_rows() -> None:
    raw = event("tariff_published", **HEADER, rates=RATES)
    assert rows(raw) == rows(raw)


def test_an_amount_too_large_for_the_table_is_refused() -> None:
    huge = [{"prefix": "1", "rate": "1" + "0" * 30}]
    with pytest.raises(ValueError, match="too large"):
        rows(event("tariff_published", **HEADER, rates=huge))


def test_tiers_text_round_trips() -> None:
    tiers = (Tier(0, None, D("0.02"), 1, "event"), Tier(0, 60, D("0.10"), 60),
             Tier(60, None, D("0.000001"), 1))
    assert tiers_text(tiers) == "0@0.02!;0-60@0.10/60;60-@0.000001/1"
    assert parse_tiers(tiers_text(tiers)) == tiers


def test_wholesale_columns_of_tiers() -> None:
    plain = Rate.wholesale(Destination("1", "USA"), D("0.6"), D("0.1"), 30, 60)
    assert wholesale(plain) == (D("0.6"), D("0.1"), 30, 60) and is_wholesale(plain)
    tiered = Rate(Destination("44", "UK"), (Tier(0, 60, D("0.1"), 60), Tier(60, None, D("0.05"))))
    assert wholesale(tiered) == (D("0.1"), D(0), 0, 60) and not is_wholesale(tiered)


def marker(version: int, part: str, offset: int, partition: int = 0,
           **fields: Any) -> Marker:
    return Marker(version, part, partition, offset, **fields)


def test_a_version_counts_from_its_latest_header_to_its_latest_completion() -> None:
    found = publications([
        marker(1, "started", 0, name="v1", effective_from_ms=0),
        marker(1, "completed", 0, rate_count=2),
        marker(2, "started", 5, name="v2 first", effective_from_ms=50),
        marker(2, "completed", 8, rate_count=4),
        marker(2, "started", 9, name="v2 again", effective_from_ms=60),
        marker(2, "completed", 12, rate_count=3),
        marker(3, "started", 20, name="v3 unfinished", effective_from_ms=10),
        marker(4, "completed", 30, rate_count=0),  # no header: never usable
    ])
    assert found == [
        Publication(1, 0, 0, 0, "v1", "", 0, None, 2),
        Publication(2, 0, 9, 12, "v2 again", "", 60, None, 3),
    ]


def test_publications_are_in_rating_order() -> None:
    found = publications([
        marker(5, "started", 1, effective_from_ms=100), marker(5, "completed", 1),
        marker(6, "started", 2, effective_from_ms=50), marker(6, "completed", 2),
        marker(4, "started", 3, effective_from_ms=100), marker(4, "completed", 3),
    ])
    assert [p.version for p in found] == [6, 4, 5]


def test_a_header_in_another_partition_does_not_open_a_version() -> None:
    assert publications([marker(1, "started", 0, partition=1),
                         marker(1, "completed", 5, partition=0)]) == []
