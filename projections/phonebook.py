"""The phonebook_entries table: rows from phonebook events, and the reads of the pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from clickhouse_driver import Client

from streams.phonebook_events import PhonebookEntry

TABLE = "phonebook_entries"
SELECT = "entry_id, user_id, number, name, added, speeddial"
COLUMNS = ("entry_id", "user_id", "number", "name", "added", "deleted", "version",
           "speeddial")


def rows(entry: PhonebookEntry, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    if entry.deleted:  # the row that hides the entry; number, name and date are not read
        yield TABLE, (entry.entry_id, entry.user_id, "", "", _utc(entry.added_ms), 1, version,
                      "")
    else:
        yield TABLE, (entry.entry_id, entry.user_id, entry.number, entry.name,
                      _utc(entry.added_ms), 0, version, entry.speeddial)


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: int
    user_id: int
    number: str
    name: str
    added: datetime  # aware, UTC
    speeddial: str = ""


def entries(client: Client, user_id: int) -> list[Entry]:
    """A user's entries in the order they were added."""
    found = client.execute(
        f"SELECT {SELECT} FROM {TABLE} FINAL "
        "WHERE user_id = %(user_id)s AND deleted = 0 ORDER BY added, version",
        {"user_id": user_id},
    )
    return [_entry(row) for row in found]


def entry(client: Client, entry_id: int) -> Entry | None:
    """One entry that is not deleted, whoever owns it."""
    found = client.execute(
        f"SELECT {SELECT} FROM {TABLE} FINAL "
        "WHERE entry_id = %(entry_id)s AND deleted = 0",
        {"entry_id": entry_id},
    )
    return _entry(found[0]) if found else None


def _entry(row: tuple[Any, ...]) -> Entry:
    entry_id, user_id, number, name, added, speeddial = row
    return Entry(int(entry_id), int(user_id), str(number), str(name),
                 added.replace(tzinfo=UTC), str(speeddial))


def _utc(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms // 1000, tz=UTC)


def entry_version(client: Client, entry_id: int) -> int:
    """The offset of the last event projected for the entry (-1: none yet)."""
    found = client.execute(
        f"SELECT max(version), count() FROM {TABLE} WHERE entry_id = %(e)s", {"e": entry_id})
    return int(found[0][0]) if found and found[0][1] else -1
