"""The tariff_rates and exchange_rates tables: rows from tariff events, and the reads of
the rates pages (docs/rates.md).

A tariff version is projected as its events arrive: a `started` row (the header), `rate`
rows, and a `completed` row (tariff_published writes all three from one event). A version
counts only once its completed row exists; its rates are then the rate rows of the same
Kafka partition from its latest header up to that completion, and their number must be
the completion's rate count (the rater's rule: rating/reference.py). Every row is keyed
by the Kafka record that wrote it, so a redelivered event changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aiokafka import ConsumerRecord
from clickhouse_driver import Client

from rating.tariff import EVENT, MINUTE, Destination, Rate, Tariff, Tier
from rating.tariff_events import (
    ExchangeRate,
    TariffCompleted,
    TariffEvent,
    TariffHeader,
    TariffRates,
    parse_tariff_event,
)
from streams.deadletters import json_object

TABLE = "tariff_rates"
EXCHANGE_TABLE = "exchange_rates"
COLUMNS = (
    "tariff_id", "tariff_version", "part", "event_partition", "event_offset", "rate_index",
    "name", "currency", "effective_from_ms", "effective_until_ms", "rate_count",
    "prefix", "destination", "direction", "kind", "destination_group", "days",
    "start_second", "end_second", "grace_time", "price_per_minute", "connection_fee",
    "min_time", "increment", "tiers",
)
EXCHANGE_COLUMNS = ("currency", "effective_from_ms", "rate", "version")
TABLES = {TABLE: COLUMNS, EXCHANGE_TABLE: EXCHANGE_COLUMNS}
STARTED, RATE, COMPLETED = "started", "rate", "completed"
SYSTEM_CURRENCY = "USD"  # worth 1 (rating.reference.ReferenceData's default)
STORED = Decimal(1).scaleb(-12)  # Decimal(38, 12)
LIMIT = Decimal(10) ** 26  # what Decimal(38, 12) holds
ZERO = Decimal(0)

Rows = Iterator[tuple[str, tuple[Any, ...]]]


def record_rows(record: ConsumerRecord[bytes, bytes]) -> Rows:
    """The rows of one tariff-events record (the sink's `tariffs` projection)."""
    thing = parse_tariff_event(json_object(record.value, "tariff event"))
    return iter(list(rows_of(thing, record.partition, record.offset)))  # all or none


def rows_of(thing: TariffEvent, partition: int, offset: int) -> Rows:
    """Rows of a parsed tariff event read from `partition` at `offset`; raises ValueError
    for a value the tables cannot hold (the sink dead-letters the record)."""
    if isinstance(thing, ExchangeRate):
        yield EXCHANGE_TABLE, (thing.currency, thing.effective_from_ms, _stored(thing.rate),
                               offset)
    elif isinstance(thing, Tariff):
        at = (thing.tariff_id, thing.version, partition, offset)
        yield TABLE, _header(*at, thing.name, thing.currency, thing.effective_from_ms,
                             thing.effective_until_ms)
        rates = [rate for window in thing.rates.values() for rate in window]
        for index, rate in enumerate(rates):
            yield TABLE, _rate(*at, index, rate)
        yield TABLE, _completed(*at, len(rates))
    elif isinstance(thing, TariffHeader):
        options = thing.options
        yield TABLE, _header(thing.tariff_id, thing.version, partition, offset,
                             options["name"], options["currency"],
                             options["effective_from_ms"], options["effective_until_ms"])
    elif isinstance(thing, TariffRates):
        for index, rate in enumerate(thing.rates):
            yield TABLE, _rate(thing.tariff_id, thing.version, partition, offset, index, rate)
    elif isinstance(thing, TariffCompleted):
        yield TABLE, _completed(thing.tariff_id, thing.version, partition, offset,
                                thing.rate_count)


_NO_HEADER = ("", "", 0, None, 0)
_NO_RATE = ("", "", "", "", "", "", 0, 0, 0, ZERO, ZERO, 0, 0, "")


def _header(tariff_id: int, version: int, partition: int, offset: int, name: str,
            currency: str, from_ms: int, until_ms: int | None) -> tuple[Any, ...]:
    return (tariff_id, version, STARTED, partition, offset, 0,
            name, currency, from_ms, until_ms, 0, *_NO_RATE)


def _completed(tariff_id: int, version: int, partition: int, offset: int,
               rate_count: int) -> tuple[Any, ...]:
    return (tariff_id, version, COMPLETED, partition, offset, 0,
            "", "", 0, None, rate_count, *_NO_RATE)


def _rate(tariff_id: int, version: int, partition: int, offset: int, index: int,
          rate: Rate) -> tuple[Any, ...]:
    d = rate.destination
    price, fee, min_time, increment = wholesale(rate)
    return (tariff_id, version, RATE, partition, offset, index, *_NO_HEADER,
            d.prefix, d.name, d.direction, d.kind, d.group, rate.days, rate.start_second,
            rate.end_second, rate.grace_time, _stored(price), _stored(fee), min_time,
            increment, tiers_text(rate.tiers))


def _stored(amount: Decimal) -> Decimal:
    if abs(amount) >= LIMIT:
        raise ValueError(f"amount {amount} is too large to store")
    return amount.quantize(STORED, ROUND_HALF_UP)


def wholesale(rate: Rate) -> tuple[Decimal, Decimal, int, int]:
    """(price per minute, connection fee, minimal time, increment) as MOR's wholesale
    columns show the rate; for tiers no wholesale rate makes, the first minute tier's
    price and increment and the connection fee (see `is_wholesale`)."""
    fee = sum((t.price for t in rate.tiers if t.kind == EVENT and t.start == 0), ZERO)
    minutes = [t for t in rate.tiers if t.kind == MINUTE]
    min_time, increment = 0, minutes[0].increment if minutes else 1
    if (len(minutes) == 2 and minutes[0].start == 0 and minutes[0].end is not None
            and minutes[0].end == minutes[0].increment == minutes[1].start
            and minutes[1].end is None and minutes[0].price == minutes[1].price):
        min_time, increment = minutes[0].end, minutes[1].increment
    return rate.price_per_minute, fee, min_time, increment


def is_wholesale(rate: Rate) -> bool:
    """Whether the rate is exactly the tiers its wholesale columns make."""
    price, fee, min_time, increment = wholesale(rate)
    return Rate.wholesale(rate.destination, price, fee, min_time, increment).tiers == rate.tiers


def tiers_text(tiers: Iterable[Tier]) -> str:
    """Tiers in the rate list's syntax (docs/tariffs.md): `0-60@0.1/60;60-@0.05/1;0@0.02!`."""
    parts = []
    for tier in tiers:
        price = format(tier.price, "f")
        if tier.kind == EVENT:
            parts.append(f"{tier.start}@{price}!")
        else:
            end = "" if tier.end is None else str(tier.end)
            parts.append(f"{tier.start}-{end}@{price}/{tier.increment}")
    return ";".join(parts)


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """The inverse of `tiers_text`."""
    tiers = []
    for part in text.split(";"):
        span, price = part.split("@", 1)
        if price.endswith("!"):
            tiers.append(Tier(int(span), None, Decimal(price[:-1]), 1, EVENT))
        else:
            amount, increment = price.split("/", 1)
            start, end = span.split("-", 1)
            tiers.append(Tier(int(start), int(end) if end else None, Decimal(amount),
                              int(increment), MINUTE))
    return tuple(tiers)


# -- reads -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Marker:
    """A `started` or `completed` row."""

    version: int
    part: str
    partition: int
    offset: int
    name: str = ""
    currency: str = ""
    effective_from_ms: int = 0
    effective_until_ms: int | None = None
    rate_count: int = 0


@dataclass(frozen=True, slots=True)
class Publication:
    """The complete publication of one version: its header and the offset range (within
    one partition) whose rate rows are its rates."""

    version: int
    partition: int
    first_offset: int
    last_offset: int
    name: str
    currency: str
    effective_from_ms: int
    effective_until_ms: int | None
    rate_count: int


def publications(markers: Iterable[Marker]) -> list[Publication]:
    """The latest complete publication of each version, in rating order: by effective
    moment, then version (rating.tariff.TariffBook's order)."""
    headers: dict[tuple[int, int], list[Marker]] = {}
    completions: dict[int, Marker] = {}
    for marker in markers:
        if marker.part == STARTED:
            headers.setdefault((marker.version, marker.partition), []).append(marker)
        elif marker.part == COMPLETED:
            known = completions.get(marker.version)
            if known is None or marker.offset > known.offset:
                completions[marker.version] = marker
    found = []
    for version, done in completions.items():
        before = [h for h in headers.get((version, done.partition), [])
                  if h.offset <= done.offset]
        if not before:
            continue  # completed without a header: never usable (the rater refuses it)
        header = max(before, key=lambda h: h.offset)
        found.append(Publication(version, done.partition, header.offset, done.offset,
                                 header.name, header.currency, header.effective_from_ms,
                                 header.effective_until_ms, done.rate_count))
    return sorted(found, key=lambda p: (p.effective_from_ms, p.version))


def tariff_in_force(client: Client, tariff_id: int, at_ms: int) -> Tariff | None:
    """The complete version of a tariff in force at `at_ms`, as the rater sees it."""
    markers = [
        Marker(*row) for row in client.execute(
            "SELECT tariff_version, CAST(part AS String), event_partition, event_offset, name, "
            "currency, effective_from_ms, effective_until_ms, rate_count "
            f"FROM {TABLE} FINAL WHERE tariff_id = %(tariff_id)s AND part != 'rate'",
            {"tariff_id": tariff_id})
    ]
    for publication in reversed(publications(markers)):
        if publication.effective_from_ms > at_ms:
            continue
        tariff = _load(client, tariff_id, publication)
        if tariff is None:
            continue  # an incomplete or invalid version: the rater never used it
        until = tariff.effective_until_ms
        return tariff if until is None or at_ms < until else None
    return None


def _load(client: Client, tariff_id: int, publication: Publication) -> Tariff | None:
    rows = client.execute(
        "SELECT prefix, destination, direction, kind, destination_group, days, start_second, "
        f"end_second, grace_time, tiers FROM {TABLE} FINAL "
        "WHERE tariff_id = %(tariff_id)s AND tariff_version = %(version)s AND part = 'rate' "
        "AND event_partition = %(partition)s "
        "AND event_offset >= %(first)s AND event_offset <= %(last)s "
        "ORDER BY event_offset, rate_index",
        {"tariff_id": tariff_id, "version": publication.version,
         "partition": publication.partition, "first": publication.first_offset,
         "last": publication.last_offset},
    )
    if len(rows) != publication.rate_count:
        return None
    try:
        rates = [
            Rate(Destination(prefix, name, direction, kind, group), parse_tiers(tiers),
                 days=days, start_second=start, end_second=end, grace_time=grace)
            for prefix, name, direction, kind, group, days, start, end, grace, tiers in rows
        ]
        return Tariff.of(tariff_id, publication.version, publication.name,
                         publication.currency, publication.effective_from_ms, rates,
                         effective_until_ms=publication.effective_until_ms)
    except ValueError:
        return None


def user_tariff_id(client: Client, user_id: int) -> int | None:
    rows = client.execute("SELECT tariff_id FROM users FINAL WHERE user_id = %(user_id)s",
                          {"user_id": user_id})
    return int(rows[0][0]) if rows else None


def user_tariff(client: Client, user_id: int, at_ms: int) -> Tariff | None:
    """The user's retail tariff version in force at `at_ms`."""
    tariff_id = user_tariff_id(client, user_id)
    return tariff_in_force(client, tariff_id, at_ms) if tariff_id is not None else None


def exchange_rates(client: Client, at_ms: int) -> dict[str, Decimal]:
    """Every currency's exchange rate in force at `at_ms` (the system currency: 1)."""
    rows = client.execute(
        f"SELECT currency, effective_from_ms, rate FROM {EXCHANGE_TABLE} FINAL "
        "WHERE effective_from_ms <= %(at_ms)s ORDER BY currency, effective_from_ms",
        {"at_ms": at_ms},
    )
    rates = {currency: rate for currency, _, rate in rows}  # the latest moment wins
    rates[SYSTEM_CURRENCY] = Decimal(1)
    return rates


def tariffs_in_force(client: Client, tariff_ids: Iterable[int], at_ms: int) -> list[Tariff]:
    """`tariff_in_force` of each tariff id (in the order given), leaving out the tariffs
    with no version in force at `at_ms`."""
    found = (tariff_in_force(client, tariff_id, at_ms) for tariff_id in tariff_ids)
    return [tariff for tariff in found if tariff is not None]


def tariff_ids(client: Client) -> list[int]:
    """Every tariff with at least one completed version, by id."""
    rows = client.execute(f"SELECT DISTINCT tariff_id FROM {TABLE} FINAL "
                          "WHERE part = 'completed' ORDER BY tariff_id")
    return [int(row[0]) for row in rows]


def owned_tariff_ids(client: Client, user_id: int) -> list[int]:
    """The tariffs of a user and of the users he owns (a reseller's), by id."""
    rows = client.execute(
        "SELECT DISTINCT tariff_id FROM users FINAL "
        "WHERE user_id = %(user_id)s OR owner_id = %(user_id)s ORDER BY tariff_id",
        {"user_id": user_id})
    return [int(row[0]) for row in rows]


def provider_tariff_ids(client: Client) -> set[int]:
    """The tariffs some provider buys at (MOR's purpose `provider`)."""
    return {int(row[0]) for row in client.execute(
        "SELECT DISTINCT tariff_id FROM providers FINAL")}
