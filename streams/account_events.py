"""Every account event type (docs/events.md) and the module that parses it.

Rating's own types (users, devices, providers, DIDs) are parsed by `rating.reference`;
the others by their feature modules, each of which exports `PARSERS` (event type ->
function from the decoded event to a frozen record, raising ValueError with the reason).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import orjson

from rating.reference import ACCOUNT_SCHEMA
from rating.reference import parse_account_event as parse_rating_event
from streams import (
    callflow_events,
    cli_events,
    device_events,
    invoice_events,
    missed_call_events,
    payment_events,
    permission_group_events,
    personal_details_events,
    phonebook_events,
    subscription_events,
    webhook_events,
)

Parser = Callable[[dict[str, Any]], object]

PARSERS: dict[str, Parser] = {
    **phonebook_events.PARSERS,
    **callflow_events.PARSERS,
    **cli_events.PARSERS,
    **device_events.PARSERS,
    **permission_group_events.PARSERS,
    **personal_details_events.PARSERS,
    **payment_events.PARSERS,
    **subscription_events.PARSERS,
    **invoice_events.PARSERS,
    **missed_call_events.PARSERS,
    **webhook_events.PARSERS,
}


def parse_account_event(event: dict[str, Any]) -> object:
    """The record of any account event; raises ValueError for a bad or unknown one."""
    kind = event.get("type")
    parser = PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is not None and event.get("schema") == ACCOUNT_SCHEMA:
        return parser(event)
    return parse_rating_event(event)


def account_event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"schema": ACCOUNT_SCHEMA, "type": kind, **fields}


def encoded(user_id: int, event: dict[str, Any]) -> tuple[bytes, bytes]:
    """(key, value) of an account event: keyed by the user it belongs to, so that one
    user's events keep their order (and projections can take the offset as version)."""
    return str(user_id).encode(), orjson.dumps(event)


def new_id() -> int:
    """A new entity id (phonebook entry, payment...): random, below 2**53 so that every
    JSON reader keeps it exact."""
    return secrets.randbits(53) or 1
