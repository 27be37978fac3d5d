"""ApiContext.projected: a command that rebuilds a whole record from a projection waits
until the projection shows the event it appended (read your writes), and no longer than
its timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api.context import ApiContext
from cdrflow.settings import Settings


class Versions:
    """A reader whose projection reaches one more version at each read."""

    def __init__(self, *seen: int) -> None:
        self.seen = list(seen)
        self.reads = 0

    def query(self, read: Callable[..., Any], *args: Any) -> int:
        self.reads += 1
        return self.seen.pop(0) if len(self.seen) > 1 else self.seen[0]


def context(reader: Versions) -> ApiContext:
    return ApiContext(Settings(), lambda: datetime(2026, 11, 30, tzinfo=UTC),
                      reader=reader)  # type: ignore[arg-type]


def version(client: object, key: int) -> int:  # the stand-in projection read
    raise AssertionError("the reader answers")


def test_waits_until_the_projection_shows_the_offset() -> None:
    reader = Versions(-1, 6, 7, 8)
    assert asyncio.run(context(reader).projected(version, 2, 7)) is True
    assert reader.reads == 3  # -1, 6, then 7


def test_gives_up_after_the_timeout() -> None:
    reader = Versions(6)
    assert asyncio.run(context(reader).projected(version, 2, 7, timeout=0.2)) is False
    assert reader.reads >= 2


def test_an_unknown_offset_is_not_waited_for() -> None:
    reader = Versions(6)
    assert asyncio.run(context(reader).projected(version, 2, None)) is False
    assert reader.reads == 0
