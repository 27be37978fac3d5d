"""projections.queries without a server: rows as clickhouse-driver returns them -> Call."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from projections.queries import _CALL_COLUMNS, Call, CallFilter, _call, calls_sql

ROW = ("c-1", 1_700_000_000, 250, 5, "101", "37060000000", '"Bob" <101>', "ANSWERED", 16,
       20, "3706", "Lithuania", 1, "", Decimal(0), Decimal(0), Decimal(0), "P",
       Decimal("0.01"), Decimal("0.0033"), 2, Decimal("0.02"), Decimal("0.0066"),
       Decimal("0.03"), Decimal("0.01"), Decimal("-0.000001"))  # fmt: skip


def test_a_row_becomes_a_call_field_by_field() -> None:
    call = _call(ROW)
    assert isinstance(call, Call)
    assert len(Call._fields) == len(_CALL_COLUMNS.split(", ")) == len(ROW)
    assert call.calldate == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert call[:1] + call[2:] == ROW[:1] + ROW[2:]
    assert call.clid == '"Bob" <101>' and call.profit == Decimal("-0.000001")


def test_strings_that_are_not_utf8_are_decoded_with_replacement() -> None:
    row = (b"c-\xff", *ROW[1:4], b"1\xfe", *ROW[5:17], b"A\xc3\xa9\xff", *ROW[18:])
    call = _call(row)
    assert (call.call_id, call.src, call.provider_name) == ("c-\ufffd", "1\ufffd", "Aé\ufffd")
    assert call[5:17] == ROW[5:17]


def test_a_filter_longer_than_any_number_matches_nothing_and_stays_out_of_the_sql() -> None:
    # found by tests/integration/test_api_fuzz.py: 100,000 quotes as s_destination made
    # a query longer than ClickHouse's max_query_size (an internal error)
    where = CallFilter(user_id=2, start=0, end=1, dst_prefix="'" * 100_000, did="7" * 300)
    sql, params = calls_sql(where)
    assert "dst_prefix" not in params and "did" not in params
    assert " AND 0 AND 0 " in sql and len(sql) < 2_000
    sql, params = calls_sql(CallFilter(user_id=2, start=0, end=1, dst_prefix="3" * 256))
    assert params["dst_prefix"] == "3" * 256  # as long as a number may be: kept
