"""The CSV rate list of docs/tariffs.md, checked row by row and turned into rate JSON.

`parse_rate_list` reads the text of a MOR-style rate list and returns the rates as the
JSON objects of `tariff_rates_added` events, the very objects the workers read with
`rating.tariff_events.rate_from_json`, so the import and the workers share one
definition of a rate. The CSV's own syntax (money with a dot, HH:MM:SS, the tiers
notation, MOR's inclusive window end) is checked here; what `Rate` and `Tier` check
themselves is left to them and their errors are given the line and column.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rating.calendar import ALL, FREE, WORK, clock
from rating.tariff import DAY_SECONDS, Rate
from rating.tariff_events import rate_from_json

COLUMNS = ("prefix", "destination", "direction", "kind", "group", "rate", "connection_fee",
           "increment", "min_time", "grace_time", "daytype", "start_time", "end_time", "tiers")
TEXT_COLUMNS = ("destination", "direction", "group")
WHOLESALE = ("rate", "connection_fee", "increment", "min_time")
DAYTYPES = {"": ALL, "WD": WORK, "FD": FREE}
DAY_NAMES = {ALL: "every-day", WORK: "work-day", FREE: "free-day"}
KINDS = ("fixed", "mobile", "special")

_DIGITS = re.compile(r"[0-9]+")
_MONEY = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_CLOCK = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})")
_MINUTE_TIER = re.compile(r"([0-9]+)-([0-9]*)@([^/!@]*)/([0-9]+)")
_EVENT_TIER = re.compile(r"([0-9]+)@([^/!@]*)!")
_FIELD = re.compile(r"(?:tiers\[\d+\]: )?field (\w+)")

Report = Callable[[str, str], None]  # (column, message)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str  # empty when the error is about the whole row
    message: str

    def render(self, file_name: str) -> str:
        where = f" column {self.column}:" if self.column else ""
        return f"{file_name}:{self.line}:{where} {self.message}"


@dataclass(frozen=True, slots=True)
class RateList:
    rate_json: tuple[dict[str, Any], ...]  # the good rows, as `tariff_rates_added` carries them
    rates: tuple[Rate, ...]  # the same rows as the workers will read them
    lines: tuple[int, ...]  # the line of each rate
    errors: tuple[RowError, ...]


def parse_rate_list(text: str) -> RateList:
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return RateList((), (), (), (RowError(1, "", "empty file: the first line must name "
                                                     "the columns"),))
    names = [name.strip().lower() for name in header]
    errors = _header_errors(header, names)
    if errors:
        return RateList((), (), (), tuple(errors))
    good: list[tuple[int, dict[str, Any], Rate]] = []
    line = reader.line_num + 1
    for row in reader:
        if any(cell.strip() for cell in row):
            if len(row) != len(names):
                errors.append(RowError(line, "", f"{len(row)} fields, but the header names "
                                                 f"{len(names)} columns"))
            else:
                found = _row(dict(zip(names, (c.strip() for c in row), strict=True)), line)
                if isinstance(found, list):
                    errors += found
                else:
                    good.append((line, *found))
        line = reader.line_num + 1
    good, repeated = _without_duplicates(good)
    errors += repeated + _overlaps(good)
    if not good and not errors:
        errors.append(RowError(1, "", "no rates: the file has a header only"))
    errors.sort(key=lambda error: error.line)
    return RateList(tuple(g[1] for g in good), tuple(g[2] for g in good),
                    tuple(g[0] for g in good), tuple(errors))


def _header_errors(header: list[str], names: list[str]) -> list[RowError]:
    errors = []
    for index, (written, name) in enumerate(zip(header, names, strict=True)):
        if not name:
            errors.append(RowError(1, f"#{index + 1}", "has no name"))
        elif name not in COLUMNS:
            errors.append(RowError(1, written.strip(), "unknown column (known: "
                                                       f"{', '.join(COLUMNS)})"))
        elif name in names[:index]:
            errors.append(RowError(1, name, f"named twice (columns {names.index(name) + 1} "
                                            f"and {index + 1})"))
    if "prefix" not in names:
        errors.append(RowError(1, "prefix", "required column is missing"))
    if "rate" not in names and "tiers" not in names:
        errors.append(RowError(1, "rate", "required column is missing (or give tiers)"))
    return errors


def _row(cells: dict[str, str], line: int) -> tuple[dict[str, Any], Rate] | list[RowError]:
    errors: list[RowError] = []

    def bad(column: str, message: str) -> None:
        errors.append(RowError(line, column, message))

    prefix = cells["prefix"]
    if not _DIGITS.fullmatch(prefix):
        bad("prefix", f"must be digits, got {prefix!r}")
    rate: dict[str, Any] = {"prefix": prefix}
    rate.update((name, cells[name]) for name in TEXT_COLUMNS if cells.get(name))
    kind = cells.get("kind", "").lower()
    if kind and kind not in KINDS:
        bad("kind", f"must be {', '.join(KINDS)} or empty, got {cells['kind']!r}")
    elif kind:
        rate["kind"] = kind
    if cells.get("tiers"):
        mixed = [name for name in WHOLESALE if cells.get(name)]
        if mixed:
            bad("tiers", f"cannot be combined with {', '.join(mixed)}")
        rate["tiers"] = _tiers(cells["tiers"], bad)
    elif not cells.get("rate"):
        bad("rate" if "rate" in cells else "tiers", "is empty: give a price per minute or tiers")
    else:
        for name in ("rate", "connection_fee"):
            if cells.get(name):
                rate[name] = cells[name]
                problem = _money_error(cells[name])
                if problem:
                    bad(name, problem)
        for name in ("increment", "min_time"):
            if cells.get(name):
                rate[name] = _seconds(cells[name], name, bad)
    if cells.get("grace_time"):
        rate["grace_time"] = _seconds(cells["grace_time"], "grace_time", bad)
    daytype = cells.get("daytype", "").upper()
    if daytype not in DAYTYPES:
        bad("daytype", f"must be WD, FD or empty, got {cells['daytype']!r}")
    elif daytype:
        rate["days"] = DAYTYPES[daytype]
    if cells.get("start_time"):
        rate["start_time"] = clock(_time_of_day(cells["start_time"], "start_time", bad))
    if cells.get("end_time"):
        last = _time_of_day(cells["end_time"], "end_time", bad)
        rate["end_time"] = clock(last if last == DAY_SECONDS else last + 1)  # MOR: inclusive
    if errors:
        return errors
    try:
        return rate, rate_from_json(rate)
    except ValueError as exc:
        return [RowError(line, _column_of(str(exc)), str(exc))]


def _money_error(value: str) -> str | None:
    if value.startswith("-") and _MONEY.fullmatch(value[1:]):
        return f"must not be negative: {value!r}"
    if not _MONEY.fullmatch(value):
        return f"not a decimal number: {value!r}"
    return None


def _seconds(value: str, column: str, bad: Report) -> int:
    if not _DIGITS.fullmatch(value):
        bad(column, f"must be a whole number of seconds, got {value!r}")
        return 0
    return int(value)


def _time_of_day(value: str, column: str, bad: Report) -> int:
    match = _CLOCK.fullmatch(value)
    if match is None:
        bad(column, "must be HH:MM:SS")
        return 0
    hours, minutes, seconds = map(int, match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if minutes > 59 or seconds > 59 or total > DAY_SECONDS:
        bad(column, f"must be a time of day from 00:00:00 to 24:00:00, got {value!r}")
    return total



def _tiers(value: str, bad: Report) -> list[dict[str, Any]]:
    """`FROM-TO@PRICE/INCREMENT` (minute tier) or `FROM@PRICE!` (event tier), `;` between."""
    tiers: list[dict[str, Any]] = []
    for number, part in enumerate((p.strip() for p in value.split(";")), start=1):
        if not part:
            continue
        minute, event = _MINUTE_TIER.fullmatch(part), _EVENT_TIER.fullmatch(part)
        if minute:
            start, end, price, increment = minute.groups()
            tier: dict[str, Any] = {"start": int(start)}
            if end:
                tier["end"] = int(end)
            tier.update(price=price, increment=int(increment))
        elif event:
            tier = {"start": int(event[1]), "price": event[2], "kind": "event"}
        else:
            bad("tiers", f"tier {number} {part!r} must be FROM-TO@PRICE/INCREMENT "
                         "or FROM@PRICE!")
            continue
        problem = _money_error(tier["price"])
        if problem:
            bad("tiers", f"tier {number} price {problem}")
        tiers.append(tier)
    return tiers


def _column_of(message: str) -> str:
    """The column a ValueError of `rate_from_json`, `Rate` or `Tier` is about."""
    field = _FIELD.match(message)
    if message.startswith("tiers"):
        return "tiers"
    if field:
        return "daytype" if field[1] == "days" else field[1]
    for word, column in (("window", "end_time"), ("tiers", "tiers"), ("grace", "grace_time"),
                         ("increment", "increment"), ("prefix", "prefix")):
        if word in message:
            return column
    return ""


def _without_duplicates(
        good: list[tuple[int, dict[str, Any], Rate]],
) -> tuple[list[tuple[int, dict[str, Any], Rate]], list[RowError]]:
    seen: dict[str, int] = {}
    kept, errors = [], []
    for line, rate, parsed in good:
        key = json.dumps(rate, sort_keys=True)
        if key in seen:
            errors.append(RowError(line, "", f"duplicate of line {seen[key]}"))
        else:
            seen[key] = line
            kept.append((line, rate, parsed))
    return kept, errors


def _overlaps(good: list[tuple[int, dict[str, Any], Rate]]) -> list[RowError]:
    """Windows of one prefix and day type that share a second; both lines are named."""
    spans: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for line, _, rate in good:
        spans.setdefault((rate.prefix, rate.days), []).append(
            (rate.start_second, rate.end_second, line))
    errors = []
    for (prefix, days), windows in spans.items():
        reach: tuple[int, int, int] | None = None  # the window that ends last so far
        for window in sorted(windows):
            if reach is not None and window[0] < reach[1]:
                first, second = sorted((reach[2], window[2]))
                errors.append(RowError(second, "", f"prefix {prefix} {DAY_NAMES[days]} "
                                                   f"windows overlap (lines {first} and "
                                                   f"{second})"))
            if reach is None or window[1] > reach[1]:
                reach = window
    return errors
