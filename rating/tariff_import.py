"""A checked rate list and the import options, as the events of one tariff version.

`import_options` reads the options of `cdrflow tariff import` (docs/tariffs.md) as they
are typed; `version_events` makes `tariff_version_started`, one `tariff_rates_added`
per 2,000 rates and `tariff_version_published`; `built_tariff` applies them to empty
reference data exactly as a worker does, so what a worker would refuse is refused
before anything is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rating.calendar import zone
from rating.rate_list import RateList
from rating.reference import ReferenceData
from rating.tariff import Tariff
from rating.tariff_events import TARIFF_SCHEMA, TariffHeader, parse_tariff_event

RATES_PER_EVENT = 2_000
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class ImportOptions:
    tariff_id: int
    version: int
    name: str
    currency: str
    effective_from_ms: int
    effective_until_ms: int | None
    timezone: str
    weekend: tuple[int, ...]
    holidays: tuple[str, ...]
    decimals: int
    rounding: str
    country_code: str
    national_prefix: str
    charge_unanswered: bool


def import_options(*, tariff_id: int, version: int, name: str, effective_from: str,
                   currency: str = "USD", effective_until: str | None = None,
                   timezone: str = "UTC", weekend: str = "sat,sun", holidays: str = "",
                   decimals: int = 6, rounding: str = "half_up", country_code: str = "",
                   national_prefix: str = "0", charge_unanswered: bool = False) -> ImportOptions:
    """The options as typed; ValueError names the option that is wrong."""
    try:
        zone(timezone)
    except (ValueError, KeyError, OSError):
        raise ValueError(f"--timezone: unknown time zone {timezone!r}") from None
    start = _option("--effective-from", moment_ms, effective_from, timezone)
    until = None
    if effective_until is not None:
        until = _option("--effective-until", moment_ms, effective_until, timezone)
        if until <= start:
            raise ValueError("--effective-until: must be after --effective-from")
    for option, value in (("--country-code", country_code),
                          ("--national-prefix", national_prefix)):
        if value and not (value.isascii() and value.isdigit()):
            raise ValueError(f"{option}: must be digits, got {value!r}")
    if version < 1:
        raise ValueError("--version: must be 1 or more")
    options = ImportOptions(
        tariff_id, version, name, currency, start, until, timezone,
        _option("--weekend", weekdays, weekend), _option("--holidays", dates, holidays),
        decimals, rounding, country_code, national_prefix, charge_unanswered)
    try:  # what the workers check, checked the way they do
        header = parse_tariff_event(version_started(options))
        if isinstance(header, TariffHeader):
            Tariff.of(header.tariff_id, header.version, rates=(), **header.options)
    except ValueError as exc:
        raise ValueError(f"options: {exc}") from None
    return options


def _option(option: str, parse: Any, *values: str) -> Any:
    try:
        return parse(*values)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None


def moment_ms(value: str, timezone: str) -> int:
    """Epoch ms, or an ISO date-time read in `timezone` unless it carries an offset."""
    text = value.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO date-time or epoch ms: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(timezone))
    if moment < EPOCH:
        raise ValueError(f"before 1970: {value!r}")
    return (moment - EPOCH) // MILLISECOND


def weekdays(value: str) -> tuple[int, ...]:
    """`sat,sun` (or full names, any case) as date.weekday() numbers; empty: none."""
    days = set()
    for name in filter(None, (n.strip().lower() for n in value.split(","))):
        found = [i for i, day in enumerate(WEEKDAYS) if len(name) >= 3 and day.startswith(name)]
        if not found:
            raise ValueError(f"not a day of the week: {name!r} (write e.g. sat,sun)")
        days.add(found[0])
    return tuple(sorted(days))


def dates(value: str) -> tuple[str, ...]:
    found = set()
    for text in filter(None, (t.strip() for t in value.split(","))):
        try:
            if len(text) != 10:
                raise ValueError
            found.add(date.fromisoformat(text).isoformat())
        except ValueError:
            raise ValueError(f"not a date YYYY-MM-DD: {text!r}") from None
    return tuple(sorted(found))


def version_started(options: ImportOptions) -> dict[str, Any]:
    event: dict[str, Any] = {
        **_key(options, "tariff_version_started"), "name": options.name,
        "currency": options.currency, "effective_from_ms": options.effective_from_ms,
    }
    if options.effective_until_ms is not None:
        event["effective_until_ms"] = options.effective_until_ms
    event.update(
        timezone=options.timezone, weekend=list(options.weekend),
        holidays=list(options.holidays), decimals=options.decimals,
        rounding=options.rounding, charge_unanswered=options.charge_unanswered,
        number_plan={"country_code": options.country_code,
                     "national_prefix": options.national_prefix})
    return event


def version_events(options: ImportOptions, rates: Sequence[dict[str, Any]],
                   per_event: int = RATES_PER_EVENT) -> list[dict[str, Any]]:
    """The events of one tariff version, in the order they must be published."""
    parts = [{**_key(options, "tariff_rates_added"), "rates": list(rates[at:at + per_event])}
             for at in range(0, len(rates), per_event)]
    done = {**_key(options, "tariff_version_published"), "rate_count": len(rates)}
    return [version_started(options), *parts, done]


def _key(options: ImportOptions, kind: str) -> dict[str, Any]:
    return {"schema": TARIFF_SCHEMA, "type": kind, "tariff_id": options.tariff_id,
            "version": options.version}


def built_tariff(events: Sequence[dict[str, Any]]) -> Tariff:
    """The tariff version a worker builds from the events; ValueError if it would not."""
    data = ReferenceData()
    found: object = None
    for event in events:
        found = data.apply(event)
    if not isinstance(found, Tariff):
        raise ValueError("the events do not end with a published tariff version")
    return found


def summary(options: ImportOptions, rate_list: RateList) -> list[str]:
    rates = rate_list.rates
    windows = {(r.days, r.start_second, r.end_second) for r in rates}
    destinations = {r.destination.name for r in rates if r.destination.name}
    lines = [
        f"tariff {options.tariff_id} version {options.version} {options.name!r} "
        f"({options.currency}): {len(rates)} rates, {len({r.prefix for r in rates})} "
        f"prefixes, {len(windows)} windows, {len(destinations)} destinations",
        f"effective from {_when(options.effective_from_ms, options.timezone)}",
    ]
    if options.effective_until_ms is not None:
        lines.append(f"effective until {_when(options.effective_until_ms, options.timezone)}")
    return lines


def _when(epoch_ms: int, timezone: str) -> str:
    moment = EPOCH + epoch_ms * MILLISECOND
    local = moment.astimezone(zone(timezone))
    return (f"{local:%Y-%m-%d %H:%M:%S} {timezone} "
            f"({moment:%Y-%m-%d %H:%M:%S} UTC, epoch ms {epoch_ms})")
