"""Phonebook events: a user's entries are added, updated as a whole (phonebook_edit) and
deleted. `speeddial` is optional: events written before it existed read as "" (none)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rating.fields import integer, text

ADDED = "phonebook_entry_added"
DELETED = "phonebook_entry_deleted"
UPDATED = "phonebook_entry_updated"
MAX_NUMBER = 40
MAX_NAME = 200
MAX_SPEEDDIAL = 10  # digits


@dataclass(frozen=True, slots=True)
class PhonebookEntry:
    entry_id: int
    user_id: int
    number: str
    name: str
    added_ms: int
    deleted: bool = False
    speeddial: str = ""  # digits, "" for none


def entry_added(event: dict[str, Any]) -> PhonebookEntry:
    number, name = text(event, "number").strip(), text(event, "name").strip()
    if not number or not name:
        raise ValueError(f"{event.get('type')}: number and name must not be empty")
    if len(number) > MAX_NUMBER or len(name) > MAX_NAME:
        raise ValueError(f"{event.get('type')}: number (max {MAX_NUMBER}) or name "
                         f"(max {MAX_NAME}) "
                         "is too long")
    speeddial = text(event, "speeddial", "").strip()
    if not valid_speeddial(speeddial):
        raise ValueError(f"{event.get('type')}: speeddial must be up to {MAX_SPEEDDIAL} digits")
    return PhonebookEntry(integer(event, "entry_id"), integer(event, "user_id"), number, name,
                          integer(event, "added_ms"), speeddial=speeddial)


def valid_speeddial(speeddial: str) -> bool:
    """"" (none) or 1 to MAX_SPEEDDIAL ASCII digits."""
    return not speeddial or (speeddial.isascii() and speeddial.isdigit()
                             and len(speeddial) <= MAX_SPEEDDIAL)


def entry_deleted(event: dict[str, Any]) -> PhonebookEntry:
    return PhonebookEntry(integer(event, "entry_id"), integer(event, "user_id"), "", "",
                          integer(event, "deleted_ms"), deleted=True)


# phonebook_entry_updated carries the whole entry (its added_ms unchanged), like an add
PARSERS = {ADDED: entry_added, DELETED: entry_deleted, UPDATED: entry_added}
