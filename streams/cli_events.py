"""Caller ID (CLI) events: a number a device may call with, added to that device.

MOR's incoming CLIs authenticate callers by their number (ANI); the pages list them
per device. A CLI belongs to the device's owner: its events are keyed by that user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rating.fields import integer, text

ADDED = "cli_added"
MAX_CLI = 40
MAX_DESCRIPTION = 200
MAX_COMMENT = 1000


@dataclass(frozen=True, slots=True)
class Cli:
    cli_id: int
    device_id: int
    user_id: int  # the device's owner
    cli: str  # digits only
    description: str
    added_ms: int
    comment: str = ""  # cli_add's comment; optional, "" in older events
    banned: bool = False  # MOR's "banned" flag (recorded, not enforced: docs/devices.md)


def cli_added(event: dict[str, Any]) -> Cli:
    cli, description = text(event, "cli"), text(event, "description", "").strip()
    if not cli.isascii() or not cli.isdigit():
        raise ValueError(f"{ADDED}: cli must be digits")
    if len(cli) > MAX_CLI or len(description) > MAX_DESCRIPTION:
        raise ValueError(f"{ADDED}: cli (max {MAX_CLI}) or description "
                         f"(max {MAX_DESCRIPTION}) is too long")
    comment, banned = text(event, "comment", ""), event.get("banned", False)
    if len(comment) > MAX_COMMENT:
        raise ValueError(f"{ADDED}: comment is too long (max {MAX_COMMENT})")
    if not isinstance(banned, bool):
        raise ValueError(f"{ADDED}: banned must be true or false")
    return Cli(integer(event, "cli_id"), integer(event, "device_id"), integer(event, "user_id"),
               cli, description, integer(event, "added_ms"), comment, banned)


PARSERS = {ADDED: cli_added}
