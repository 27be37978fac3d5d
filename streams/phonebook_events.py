"""Phonebook events: a user's entries are added and deleted, never edited in place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rating.fields import integer, text

ADDED = "phonebook_entry_added"
DELETED = "phonebook_entry_deleted"
MAX_NUMBER = 40
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class PhonebookEntry:
    entry_id: int
    user_id: int
    number: str
    name: str
    added_ms: int
    deleted: bool = False


def entry_added(event: dict[str, Any]) -> PhonebookEntry:
    number, name = text(event, "number").strip(), text(event, "name").strip()
    if not number or not name:
        raise ValueError(f"{ADDED}: number and name must not be empty")
    if len(number) > MAX_NUMBER or len(name) > MAX_NAME:
        raise ValueError(f"{ADDED}: number (max {MAX_NUMBER}) or name (max {MAX_NAME}) "
                         "is too long")
    return PhonebookEntry(integer(event, "entry_id"), integer(event, "user_id"), number, name,
                          integer(event, "added_ms"))


def entry_deleted(event: dict[str, Any]) -> PhonebookEntry:
    return PhonebookEntry(integer(event, "entry_id"), integer(event, "user_id"), "", "",
                          integer(event, "deleted_ms"), deleted=True)


PARSERS = {ADDED: entry_added, DELETED: entry_deleted}
