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


@dataclass(frozen=True, slots=True)
class Cli:
    cli_id: int
    device_id: int
    user_id: int  # the device's owner
    cli: str  # digits only
    description: str
    added_ms: int


def cli_added(event: dict[str, Any]) -> Cli:
    cli, description = text(event, "cli"), text(event, "description", "").strip()
    if not cli.isascii() or not cli.isdigit():
        raise ValueError(f"{ADDED}: cli must be digits")
    if len(cli) > MAX_CLI or len(description) > MAX_DESCRIPTION:
        raise ValueError(f"{ADDED}: cli (max {MAX_CLI}) or description "
                         f"(max {MAX_DESCRIPTION}) is too long")
    return Cli(integer(event, "cli_id"), integer(event, "device_id"), integer(event, "user_id"),
               cli, description, integer(event, "added_ms"))


PARSERS = {ADDED: cli_added}
