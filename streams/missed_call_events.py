"""Missed call events: a user marks one of their missed calls processed (or not again).

The mark is a fact of its own, not a change of the CDR: `missed_call_processed`
{user_id, call_id, processed, at_ms}, keyed by the user id on account-events, projected
to `missed_call_marks` (docs/stats_pages.md). The last mark of a call wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rating.fields import integer, text

PROCESSED = "missed_call_processed"
MAX_CALL_ID = 200


@dataclass(frozen=True, slots=True)
class MissedCallMark:
    user_id: int
    call_id: str
    processed: bool
    at_ms: int


def call_processed(event: dict[str, Any]) -> MissedCallMark:
    call_id = text(event, "call_id")
    if not call_id or len(call_id) > MAX_CALL_ID:
        raise ValueError(f"{PROCESSED}: call_id must have 1 to {MAX_CALL_ID} characters")
    processed = event.get("processed")
    if not isinstance(processed, bool):
        raise ValueError(f"{PROCESSED}: field processed must be true or false")
    return MissedCallMark(integer(event, "user_id"), call_id, processed,
                          integer(event, "at_ms"))


PARSERS = {PROCESSED: call_processed}
