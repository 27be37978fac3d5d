"""Dispositions: ANSWERED, NO ANSWER, BUSY, FAILED, from answer and billsec first,
the Q.850 hangup cause second (../shared/design/TEST-VECTORS.md)."""

from __future__ import annotations

from rating.call import Call

ANSWERED = "ANSWERED"
NO_ANSWER = "NO ANSWER"
BUSY = "BUSY"
FAILED = "FAILED"
DISPOSITIONS = (ANSWERED, NO_ANSWER, BUSY, FAILED)

USER_BUSY = 17
CALL_REJECTED = 21
_NO_ANSWER_CAUSES = frozenset({16, 18, 19, 20, 31})


def disposition(call: Call) -> str:
    if call.answer_ms or call.billsec > 0:
        return ANSWERED
    cause = call.hangup_cause
    if cause == USER_BUSY:
        return BUSY
    if cause == CALL_REJECTED:
        return BUSY if call.ringing else FAILED
    if cause in _NO_ANSWER_CAUSES:
        return NO_ANSWER
    return FAILED


def dispod(name: str, cause: int) -> str:
    """MOR's display form, e.g. ``ANSWERED(16)``."""
    return f"{name}({cause})"
