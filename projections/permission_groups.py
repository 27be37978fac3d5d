"""The api_permission_groups table: one row per group from its latest event, and its read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from clickhouse_driver import Client

from streams.permission_group_events import PermissionGroup

TABLE = "api_permission_groups"
COLUMNS = ("group_name", "methods", "version")


def rows(group: PermissionGroup, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (group.name, orjson.dumps(dict(group.methods)).decode(), version)


def permission_group(client: Client, name: str) -> PermissionGroup | None:
    """The group called `name`, or None when no event ever set it."""
    found = client.execute(
        f"SELECT methods FROM {TABLE} FINAL WHERE group_name = %(name)s",
        {"name": name},
    )
    if not found:
        return None
    methods = orjson.loads(found[0][0])
    return PermissionGroup(name, tuple(sorted((str(k), str(v)) for k, v in methods.items())))
