"""Work days and free days, and wall-clock time in a tariff's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

WORK = "work"
FREE = "free"
ALL = "all"
DAY_TYPES = (ALL, WORK, FREE)
SATURDAY, SUNDAY = 5, 6


def clock(second_of_day: int) -> str:
    """`HH:MM:SS` of a second of the day (86400 is `24:00:00`)."""
    return (f"{second_of_day // 3600:02d}:{second_of_day % 3600 // 60:02d}:"
            f"{second_of_day % 60:02d}")


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class Calendar:
    """Free days are the weekend days plus the holidays; the others are work days."""

    timezone: str = "UTC"
    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})  # date.weekday() numbers
    holidays: frozenset[date] = field(default_factory=frozenset)

    def day_type(self, day: date) -> str:
        return FREE if day.weekday() in self.weekend or day in self.holidays else WORK

    def local(self, epoch_ms: int) -> datetime:
        moment = datetime.fromtimestamp(epoch_ms // 1000, tz=UTC)
        return (moment + timedelta(milliseconds=epoch_ms % 1000)).astimezone(zone(self.timezone))

    def wall_clock(self, epoch_ms: int) -> tuple[date, int]:
        """The local date and second of the day of a moment: `local(epoch_ms)` without
        its milliseconds, for a third of the cost. (A zone picks its offset and fold from
        the whole second, so dropping the milliseconds first changes nothing else.)"""
        local = datetime.fromtimestamp(epoch_ms // 1000, tz=zone(self.timezone))
        return local.date(), local.hour * 3600 + local.minute * 60 + local.second

    def epoch_ms(self, day: date, second_of_day: int, after_ms: int | None = None) -> int:
        """Epoch ms of a local wall-clock moment (second 86400 is the next midnight).

        A wall-clock time that happens twice (the hour repeated when summer time ends)
        is its first occurrence, or, with `after_ms`, the first occurrence after it."""
        moment = _epoch_ms(self.timezone, day, second_of_day, 0)
        if after_ms is not None and moment <= after_ms:
            moment = _epoch_ms(self.timezone, day, second_of_day, 1)
        return moment


@lru_cache(maxsize=8192)
def _epoch_ms(timezone: str, day: date, second_of_day: int, fold: int) -> int:
    # cached: a pure function, asked again and again for the few window edges of the
    # days that calls are made on
    if second_of_day >= 86_400:
        day, second_of_day = day + timedelta(days=1), second_of_day - 86_400
    hours, rest = divmod(second_of_day, 3600)
    moment = datetime.combine(day, time(hours, rest // 60, rest % 60, fold=fold),
                              tzinfo=zone(timezone))
    return int(moment.timestamp()) * 1000
