"""Batch inserts into the projection tables (one INSERT per table per batch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clickhouse_driver import Client

from projections import account_tables, active_calls, faxes, rejections, tariff_rates
from projections.rows import CDR_COLUMNS

TABLES = {"cdrs": CDR_COLUMNS, **account_tables.TABLES, **tariff_rates.TABLES,
          **faxes.TABLES, **active_calls.TABLES, **rejections.TABLES}


def insert(client: Client, table: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert rows into one of TABLES; returns the number of rows written."""
    if not rows:
        return 0
    columns = ", ".join(TABLES[table])
    client.execute(f"INSERT INTO {table} ({columns}) VALUES", list(rows))
    return len(rows)
