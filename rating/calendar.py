"""Work days and free days, and wall-clock time in a tariff's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
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


SLOT_SECONDS = 900  # every UTC offset in use is a multiple of 15 minutes, and so is
# every instant a clock changes: a 15-minute slot of UTC is one stretch of local time
MAX_SLOTS = 200_000  # about five years of slots per calendar; then the cache starts over


class Slot(NamedTuple):
    """Local time during one 15-minute slot of UTC in which the offset does not change."""

    day: date
    second: int  # local second of the day at the slot's start
    day_type: str
    day_end_ms: int  # when the local day ends (the window edge of all-day rates)


@dataclass(frozen=True, slots=True)
class Calendar:
    """Free days are the weekend days plus the holidays; the others are work days."""

    timezone: str = "UTC"
    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})  # date.weekday() numbers
    holidays: frozenset[date] = field(default_factory=frozenset)
    # memo of `slot()`: local time is a pure function of the moment, so this changes
    # no answer, only how often the zone database is asked (bench/rating)
    _slots: dict[int, Slot | None] = field(default_factory=dict, init=False, repr=False,
                                           compare=False, hash=False)

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

    def moment(self, epoch_ms: int) -> tuple[date, int, str, int]:
        """`wall_clock(epoch_ms)`, the day type and when the local day ends (as
        `day_end_ms`), usually from the memo of 15-minute slots."""
        seconds = epoch_ms // 1000
        number, into = divmod(seconds, SLOT_SECONDS)
        slots = self._slots
        slot = slots[number] if number in slots else self._slot(number)
        if slot is None:  # a clock change or a midnight inside the slot: no shortcut
            day, second = self.wall_clock(epoch_ms)
            return day, second, self.day_type(day), self.day_end_ms(day, epoch_ms)
        return slot.day, slot.second + into, slot.day_type, max(slot.day_end_ms,
                                                               epoch_ms + 1000)

    def day_end(self, epoch_ms: int) -> int:
        """`moment(epoch_ms)[3]`: all that an all-day rate needs to know of a moment."""
        number = epoch_ms // (SLOT_SECONDS * 1000)
        slots = self._slots
        slot = slots[number] if number in slots else self._slot(number)
        if slot is None:
            return self.moment(epoch_ms)[3]
        end = slot.day_end_ms
        return end if end > epoch_ms + 1000 else epoch_ms + 1000

    def _slot(self, number: int) -> Slot | None:
        if len(self._slots) >= MAX_SLOTS:
            self._slots.clear()
        first_ms, last_ms = number * SLOT_SECONDS * 1000, ((number + 1) * SLOT_SECONDS - 1) * 1000
        (day, second), (last_day, last_second) = self.wall_clock(first_ms), self.wall_clock(last_ms)
        slot = None
        if day == last_day and last_second - second == SLOT_SECONDS - 1:
            slot = Slot(day, second, self.day_type(day), self.day_end_ms(day, first_ms))
        self._slots[number] = slot
        return slot

    def day_end_ms(self, day: date, epoch_ms: int) -> int:
        """When the local `day` that `epoch_ms` falls in ends: the next midnight, at least
        a second after `epoch_ms` (an empty piece of a call is never made)."""
        return max(self.epoch_ms(day, 86_400, after_ms=epoch_ms), epoch_ms + 1000)

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
