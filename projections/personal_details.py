"""The personal_details table: rows from personal_details_updated, and the page's read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from clickhouse_driver import Client

from streams.personal_details_events import FIELDS, PersonalDetails

TABLE = "personal_details"
COLUMNS = ("user_id", *FIELDS, "version")


def rows(details: PersonalDetails, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield TABLE, (details.user_id, *details.values().values(), version)


def personal_details(client: Client, user_id: int) -> PersonalDetails:
    """A user's personal details; all empty until the user saved some."""
    found = client.execute(
        f"SELECT {', '.join(FIELDS)} FROM {TABLE} FINAL WHERE user_id = %(user_id)s",
        {"user_id": user_id},
    )
    if not found:
        return PersonalDetails(user_id)
    return PersonalDetails(user_id, *(_text(value) for value in found[0]))


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def details_version(client: Client, user_id: int) -> int:
    """The offset of the last personal_details_updated projected for the user (-1: none)."""
    found = client.execute(
        f"SELECT max(version), count() FROM {TABLE} WHERE user_id = %(u)s", {"u": user_id})
    return int(found[0][0]) if found and found[0][1] else -1
