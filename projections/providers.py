"""The providers table: rows from provider_created, and its read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from clickhouse_driver import Client

from rating.reference import Provider

TABLE = "providers"
COLUMNS = ("provider_id", "name", "tariff_id", "version")


def rows(provider: Provider, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (provider.provider_id, provider.name, provider.tariff_id, version)


def providers(client: Client) -> list[Provider]:
    """Every provider as of its last provider_created, by id."""
    found = client.execute(
        f"SELECT {', '.join(COLUMNS[:-1])} FROM {TABLE} FINAL ORDER BY provider_id")
    return [Provider(int(row[0]), str(row[1]), int(row[2])) for row in found]
