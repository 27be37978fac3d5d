"""Connections to ClickHouse and the numbered migrations that shape it."""

from __future__ import annotations

import logging
from importlib import resources

from clickhouse_driver import Client

from cdrflow.settings import ClickHouseEndpoint

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = "schema_migrations"


def connect(endpoint: ClickHouseEndpoint, *, database: str | None = None) -> Client:
    """A client for one database (the endpoint's unless `database` is given)."""
    return Client(
        host=endpoint.host,
        port=endpoint.port,
        user=endpoint.user,
        password=endpoint.password,
        database=database or endpoint.database,
        connect_timeout=5,
        send_receive_timeout=60,
        settings={"use_numpy": False},
    )


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) for every file in projections/migrations, in order."""
    found = []
    for entry in resources.files("projections.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql"):
            found.append((int(name.split("_", 1)[0]), name, entry.read_text("utf-8")))
    return sorted(found)


def migrate(endpoint: ClickHouseEndpoint) -> list[str]:
    """Create the database and apply the migrations it lacks; returns their names."""
    connect(endpoint, database="default").execute(
        f"CREATE DATABASE IF NOT EXISTS `{endpoint.database}`"
    )
    client = connect(endpoint)
    client.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
        "(number UInt32, name String, applied_at DateTime('UTC') DEFAULT now()) "
        "ENGINE = MergeTree ORDER BY number"
    )
    done = {row[0] for row in client.execute(f"SELECT number FROM {MIGRATIONS_TABLE}")}
    applied = []
    for number, name, sql in migrations():
        if number in done:
            continue
        client.execute(sql)
        client.execute(
            f"INSERT INTO {MIGRATIONS_TABLE} (number, name) VALUES", [(number, name)]
        )
        log.info("clickhouse: applied migration %s", name)
        applied.append(name)
    return applied
