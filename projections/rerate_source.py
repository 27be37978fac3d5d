"""The CDRs a re-rating reads back: `cdrs FINAL` (the latest version of each call)
selected by period, user and tariff, as `Cdr` records again (docs/rerating.md)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from clickhouse_driver import Client

from projections.rows import CDR_COLUMNS
from rating.cdr import Cdr

BLOCK_ROWS = 10_000
# cdrs columns as `cdr_row` wrote them, read back: the call's start in whole seconds
# plus its milliseconds, the disposition as text.
_READ = {"calldate": "toUInt32(calldate)", "disposition": "CAST(disposition AS String)"}
_SELECT = ", ".join(_READ.get(column, column) for column in CDR_COLUMNS)
_INTEGERS = frozenset({f.name for f in fields(Cdr) if f.type == "int"}
                      | {"calldate", "calldate_ms"})
_DECIMALS = frozenset(f.name for f in fields(Cdr) if f.type == "Decimal")


@dataclass(frozen=True, slots=True)
class CdrSelection:
    """Calls that started in [start, end] (unix seconds, both inclusive, as MOR's
    period_start and period_end), of one user and rated with one user tariff when given."""

    start: int
    end: int
    user_id: int | None = None
    tariff_id: int | None = None


def selection_sql(selection: CdrSelection) -> tuple[str, dict[str, Any]]:
    conditions = ["calldate >= toDateTime(%(start)s)", "calldate <= toDateTime(%(end)s)"]
    params: dict[str, Any] = {"start": max(selection.start, 0),
                              "end": min(max(selection.end, 0), 2**32 - 1)}
    if selection.user_id is not None:
        conditions.append("user_id = %(user_id)s")
        params["user_id"] = selection.user_id
    if selection.tariff_id is not None:
        conditions.append("tariff_id = %(tariff_id)s")
        params["tariff_id"] = selection.tariff_id
    return (f"SELECT {_SELECT} FROM cdrs FINAL WHERE {' AND '.join(conditions)} "
            "ORDER BY user_id, calldate, call_id", params)


def each_cdr(client: Client, selection: CdrSelection) -> Iterator[Cdr]:
    """The selected CDRs in the table's order, streamed in blocks of BLOCK_ROWS."""
    sql, params = selection_sql(selection)
    for row in client.execute_iter(sql, params, settings={"max_block_size": BLOCK_ROWS}):
        yield cdr_from_row(row)


def cdr_from_row(row: tuple[Any, ...]) -> Cdr:
    """A CDR from a row of `_SELECT` (the inverse of projections.rows.cdr_row)."""
    values = {column: _value(column, value) for column, value in zip(CDR_COLUMNS, row,
                                                                      strict=True)}
    values["start_ms"] = values.pop("calldate") * 1000 + values.pop("calldate_ms")
    return Cdr(**values)


def _value(column: str, value: Any) -> Any:
    if column in _INTEGERS:
        return int(value)
    if column in _DECIMALS:
        return Decimal(value)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
