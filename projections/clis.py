"""The device_clis table: rows from CLI events, and the reads of the CallerIDs page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from clickhouse_driver import Client

from streams.cli_events import Cli

TABLE = "device_clis"
COLUMNS = ("cli_id", "device_id", "user_id", "cli", "description", "added", "version",
           "comment", "banned")
SELECT = "cli_id, device_id, user_id, cli, description, added"


def rows(cli: Cli, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    added = datetime.fromtimestamp(cli.added_ms // 1000, tz=UTC)
    yield TABLE, (cli.cli_id, cli.device_id, cli.user_id, cli.cli, cli.description, added,
                  version, cli.comment, int(cli.banned))


@dataclass(frozen=True, slots=True)
class DeviceCli:
    cli_id: int
    device_id: int
    user_id: int
    cli: str
    description: str
    added: datetime  # aware, UTC


def clis_of_user(client: Client, user_id: int) -> list[DeviceCli]:
    """The CLIs of a user's devices, in the order they were added."""
    found = client.execute(
        f"SELECT {SELECT} FROM {TABLE} FINAL WHERE user_id = %(user_id)s "
        "ORDER BY added, version",
        {"user_id": user_id})
    return [_cli(row) for row in found]


def cli_exists(client: Client, device_id: int, cli: str) -> bool:
    """Whether the device already has this CLI."""
    found = client.execute(
        f"SELECT count() FROM {TABLE} WHERE device_id = %(device_id)s AND cli = %(cli)s",
        {"device_id": device_id, "cli": cli})
    return bool(found[0][0])


def _cli(row: tuple[Any, ...]) -> DeviceCli:
    cli_id, device_id, user_id, cli, description, added = row
    return DeviceCli(int(cli_id), int(device_id), int(user_id), str(cli), str(description),
                     added.replace(tzinfo=UTC))
