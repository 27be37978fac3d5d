"""Connections to ClickHouse and the numbered migrations that shape it."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from importlib import resources

from clickhouse_driver import Client

from cdrflow.settings import ClickHouseEndpoint

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = "schema_migrations"
_TARGET = re.compile(r"(?:CREATE TABLE IF NOT EXISTS|ALTER TABLE)\s+`?(\w+)`?")


def connect(endpoint: ClickHouseEndpoint, *, database: str | None = None,
            timeout: float = 60) -> Client:
    """A client for one database (the endpoint's unless `database` is given); `timeout`
    is how long one query may take to answer."""
    return Client(
        host=endpoint.host,
        port=endpoint.port,
        user=endpoint.user,
        password=endpoint.password,
        database=database or endpoint.database,
        connect_timeout=5,
        send_receive_timeout=timeout,
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


def reset(endpoint: ClickHouseEndpoint, tables: Collection[str]) -> list[str]:
    """Drop `tables` and create them again, empty, by applying once more the migrations
    that shape them (in order); returns those migrations' names. Other tables and
    `schema_migrations` are left as they are."""
    migrate(endpoint)
    client = connect(endpoint)
    for table in sorted(tables):
        client.execute(f"DROP TABLE IF EXISTS `{table}`")
    applied = []
    for _, name, sql in migrations():
        if target_of(sql) in tables:
            client.execute(sql)
            applied.append(name)
    log.info("clickhouse: dropped and created again %s", ", ".join(sorted(tables)))
    return applied


def target_of(sql: str) -> str:
    """The table a migration creates or alters."""
    body = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    found = _TARGET.search(body)
    if not found:
        raise ValueError(f"no CREATE TABLE or ALTER TABLE in migration: {sql[:80]!r}")
    return found.group(1)
