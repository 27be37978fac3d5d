"""Period bounds of the pages' "Change period" forms: `YYYY-MM-DD` or epoch seconds.

Shared by the Faxes, Missed calls and Detailed statistics pages and the call list (and
its exports). A day is read in the shown
user's time zone, from 00:00:00 (a start) or until 23:59:59 (an end); absent: today.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo

from api.errors import ApiError, ErrorKind
from api.params import MAX_TIMESTAMP, Params

_DIGITS = re.compile(r"[0-9]{1,20}")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
DAY_START = time.min
DAY_END = time(23, 59, 59)


def period(params: Params, zone: tzinfo, now: datetime, start: str = "period_start",
           end: str = "period_end") -> tuple[int, int]:
    """(start, end) in epoch seconds, inclusive, from a "Change period" form: `search_on`
    (0 or 1, else ApiError) is checked and ignored, then the two bounds (`bound`) named
    `start` and `end`; a day is that day in `zone`, absent ones today."""
    search_on = params.get("search_on")
    if search_on is not None and search_on not in ("0", "1"):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "search_on")
    today = now.astimezone(zone).date()
    return (bound(params, start, zone, today, DAY_START),
            bound(params, end, zone, today, DAY_END))


def bound(params: Params, name: str, zone: tzinfo, today: date, at: time) -> int:
    """A period bound in epoch seconds: `YYYY-MM-DD` (that day in `zone`, at `at`) or
    epoch seconds; absent or empty: `today` at `at`. Anything else, or a moment past
    MAX_TIMESTAMP, raises ApiError(INVALID_PARAMETER, name)."""
    value = params.get(name)
    if value is None:
        return int(datetime.combine(today, at, zone).timestamp())
    if _DIGITS.fullmatch(value):
        seconds = int(value)
        if seconds > MAX_TIMESTAMP:
            raise ApiError(ErrorKind.INVALID_PARAMETER, name)
        return seconds
    day = _DAY.fullmatch(value)
    if day is None:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    try:
        when = date(int(day[1]), int(day[2]), int(day[3]))
    except ValueError:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name) from None
    if when.year < 1970 or when.year > 9998:
        raise ApiError(ErrorKind.INVALID_PARAMETER, name)
    return max(0, int(datetime.combine(when, at, zone).timestamp()))
