"""Account events into rows of the account tables: one function per record type.

Each feature module of projections/ contributes its table's columns and a `rows`
function; a record type not listed here has no table (providers, DIDs: not yet shown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from projections import phonebook
from projections.rows import DEVICE_COLUMNS, USER_COLUMNS, device_row, user_row
from rating.reference import Account, Device
from streams.phonebook_events import PhonebookEntry

Rows = Iterable[tuple[str, tuple[Any, ...]]]


def _user(account: Account, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield "users", user_row(account, version)


def _device(device: Device, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield "devices", device_row(device, version)


ROWS: dict[type, Callable[[Any, int], Rows]] = {
    Account: _user,
    Device: _device,
    PhonebookEntry: phonebook.rows,
}
TABLES: dict[str, tuple[str, ...]] = {
    "users": USER_COLUMNS,
    "devices": DEVICE_COLUMNS,
    phonebook.TABLE: phonebook.COLUMNS,
}


def rows_of(record: object, version: int) -> Rows:
    """The rows an account event's record projects to (none for untabled records)."""
    to_rows = ROWS.get(type(record))
    return to_rows(record, version) if to_rows is not None else ()
