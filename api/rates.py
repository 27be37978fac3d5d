"""Rates pages: `/tariffs/user_rates`, `/directions/dg_list_user_destinations/<prefix>`,
`/tariffs/generate_personal_rates_csv/<user id>`, `.../generate_personal_rates_pdf/<user id>`.

Every page shows the logged-in user's retail tariff version in force now, as the
`tariff_rates` projection holds it; the rules are in docs/rates.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import page_owner
from api.context import ApiContext
from api.errors import xml_response
from api.pages import page
from api.params import read_params
from api.rates_pdf import render_rates_pdf
from api.session import page_endpoint
from api.user_calls import user_zone
from api.xml import error_document, escape, money
from projections import tariff_rates
from projections.queries import User
from rating.calendar import clock
from rating.tariff import Rate, Tariff, Tier

PAGENAME = "Payments"  # sic: MOR's pagename of the rates page
RATE_TYPES = {"fixed": "FIX", "mobile": "MOB", "special": "SPEC"}
SHOWN = Decimal("0.000001")  # prices are shown to 6 decimals, half up
HUNDRED = Decimal(100)
DAY_TYPES = {"all": "", "work": "WD", "free": "FD"}
CSV_HEADER = ("prefix", "destination", "direction", "kind", "group", "daytype", "start_time",
              "end_time", "rate", "rate_with_vat", "connection_fee", "increment", "min_time",
              "grace_time", "tiers", "currency")
CURRENCY_NOT_FOUND = "Currency was not found"
NO_EXCHANGE_RATE = "Exchange rate was not found"
DESTINATIONS_NOT_FOUND = "Destination group was not found"


@dataclass(frozen=True, slots=True)
class RateLine:
    """One row of the rates page: a direction and a type of number."""

    name: str
    rate_type: str
    cost: Decimal
    vat_cost: Decimal


class Prices:
    """Converts the tariff's prices into the currency shown and adds VAT."""

    def __init__(self, factor: Decimal, tax_percent: Decimal) -> None:
        self.factor = factor
        self.vat = 1 + tax_percent / HUNDRED

    def cost(self, amount: Decimal) -> Decimal:
        return (amount * self.factor).quantize(SHOWN, ROUND_HALF_UP)

    def with_vat(self, cost: Decimal) -> Decimal:
        return (cost * self.vat).quantize(SHOWN, ROUND_HALF_UP)


def rate_type(kind: str) -> str:
    """MOR's destination type of a kind: FIX, MOB, SPEC (another kind: upper case)."""
    return RATE_TYPES.get(kind, kind.upper())


def group_of(rate: Rate) -> tuple[str, str]:
    """(ratename, ratetype): the direction (country), or the destination's name when the
    rate has no direction, and the type."""
    destination = rate.destination
    return destination.direction or destination.name, rate_type(destination.kind)


def all_rates(tariff: Tariff) -> list[Rate]:
    return [rate for window in tariff.rates.values() for rate in window]


def rate_lines(tariff: Tariff, prices: Prices) -> list[RateLine]:
    """One line per direction and type, at the highest price per minute of its rates
    (every prefix and time window), sorted by name then type."""
    highest: dict[tuple[str, str], Decimal] = {}
    for rate in all_rates(tariff):
        key = group_of(rate)
        highest[key] = max(highest.get(key, rate.price_per_minute), rate.price_per_minute)
    lines = []
    for (name, kind), price in sorted(highest.items()):
        cost = prices.cost(price)
        lines.append(RateLine(name, kind, cost, prices.with_vat(cost)))
    return lines


def destinations(tariff: Tariff, prefix: str) -> tuple[tuple[str, str], list[Rate]] | None:
    """The group of the rate with this prefix and one rate per prefix of that group
    (sorted by prefix), or None when the tariff has no such prefix."""
    found = tariff.rates.get(prefix)
    if not found:
        return None
    group = group_of(found[0])
    members = [window[0] for p, window in sorted(tariff.rates.items())
               if group_of(window[0]) == group]
    return group, members


def factor(rates: dict[str, Decimal], source: str, target: str) -> Decimal | None:
    """Multiply an amount in `source` by this to get `target` (rating.reference's rule)."""
    if source == target:
        return Decimal(1)
    if source not in rates or target not in rates:
        return None
    return rates[target] / rates[source]


def percent(value: Decimal) -> str:
    """A VAT percentage as MOR shows it: 15, 21.5, 0."""
    return format(value.normalize(), "f")


def available(rates: dict[str, Decimal]) -> list[str]:
    """The system currency, then every other currency with a rate, alphabetically."""
    system = tariff_rates.SYSTEM_CURRENCY
    return [system, *sorted(c for c in rates if c != system)]


def rates_page(user: User, currency: str, currencies: Sequence[str],
               lines: Iterable[RateLine]) -> str:
    aval = "".join(f"  <currency>{escape(c)}</currency>\n" for c in currencies)
    rows = "".join(
        "  <rate>\n"
        f"   <ratename>{escape(line.name)}</ratename>\n"
        "   <rateicon></rateicon>\n"
        f"   <ratetype>{escape(line.rate_type)}</ratetype>\n"
        f"   <ratecost>{money(line.cost)}</ratecost>\n"
        f"   <rate_vat_cost>{money(line.vat_cost)}</rate_vat_cost>\n"
        "  </rate>\n"
        for line in lines
    )
    body = (f" <currency>{escape(currency)}</currency>\n"
            f" <vat_percent>{percent(user.tax_percent)}</vat_percent>\n"
            f" <aval_currencies>\n{aval} </aval_currencies>\n"
            + (f" <rates>\n{rows} </rates>\n" if rows else " <rates></rates>\n"))
    return page(PAGENAME, body, user_id=user.user_id)


def destinations_page(group: tuple[str, str], members: Iterable[Rate]) -> str:
    rows = "".join(
        "  <direction>\n"
        f"   <details>{escape(rate.destination.name)}</details>\n"
        f"   <prefix>{escape(rate.prefix)}</prefix>\n"
        f"   <dir_code>{escape(rate_type(rate.destination.kind))}</dir_code>\n"
        "  </direction>\n"
        for rate in members
    )
    body = (f" <groupname>{escape(group[0])}</groupname>\n <groupicon></groupicon>\n"
            f" <directions>\n{rows} </directions>\n")
    return page("Destinations", body)


def rate_rows(tariff: Tariff | None, prices: Prices, currency: str
              ) -> Iterator[tuple[str | int, ...]]:
    """Every rate of the version (by prefix, then window) in the rate list's columns
    (`CSV_HEADER`), prices converted; `tiers` only for rates the wholesale columns cannot
    say. The CSV and the PDF both show these rows."""
    rates = all_rates(tariff) if tariff is not None else []
    for rate in sorted(rates, key=lambda r: (r.prefix, r.days, r.start_second)):
        d = rate.destination
        price, fee, min_time, increment = tariff_rates.wholesale(rate)
        cost = prices.cost(price)
        tiers = "" if tariff_rates.is_wholesale(rate) else tariff_rates.tiers_text(
            Tier(t.start, t.end, Decimal(money(prices.cost(t.price))), t.increment, t.kind)
            for t in rate.tiers)
        yield (
            d.prefix, d.name, d.direction, d.kind, d.group, DAY_TYPES.get(rate.days, rate.days),
            clock(rate.start_second), clock(rate.end_second - 1), money(cost),
            money(prices.with_vat(cost)), money(prices.cost(fee)), increment, min_time,
            rate.grace_time, tiers, currency,
        )


def rates_csv(tariff: Tariff | None, prices: Prices, currency: str) -> str:
    """`rate_rows` under `CSV_HEADER`, CRLF lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rate_rows(tariff, prices, currency))
    return out.getvalue()


def rates_pdf(tariff: Tariff | None, prices: Prices, currency: str, owner: User,
              generated: datetime) -> bytes:
    """`rate_rows` as the PDF shows them (api/rates_pdf.py), the time in the owner's zone."""
    return render_rates_pdf(
        (dict(zip(CSV_HEADER, row, strict=True))
         for row in rate_rows(tariff, prices, currency)),
        user_name=owner.nice_name, tariff_currency=tariff.currency if tariff is not None else None,
        currency=currency, generated=generated, zone=user_zone(owner.timezone))


# -- endpoints ---------------------------------------------------------------------------


def _now_ms(context: ApiContext) -> int:
    return int(context.clock().timestamp() * 1000)


async def _prices(request: Request, context: ApiContext, user: User,
                  tariff: Tariff | None) -> tuple[str, list[str], Prices] | str:
    """(currency shown, currencies offered, prices), or the error to answer."""
    params = await read_params(request, allow_get=True)
    rates = await context.query(tariff_rates.exchange_rates, _now_ms(context))
    currency = (params.get("currency") or user.currency).upper()
    if currency not in rates and currency != user.currency:
        return CURRENCY_NOT_FOUND
    multiply = factor(rates, tariff.currency, currency) if tariff is not None else Decimal(1)
    if multiply is None:
        return NO_EXCHANGE_RATE
    return currency, available(rates), Prices(multiply, user.tax_percent)


async def user_rates(request: Request, context: ApiContext, user: User) -> Response:
    tariff = await context.query(tariff_rates.user_tariff, user.user_id, _now_ms(context))
    shown = await _prices(request, context, user, tariff)
    if isinstance(shown, str):
        return xml_response(error_document(shown))
    currency, currencies, prices = shown
    lines = rate_lines(tariff, prices) if tariff is not None else []
    return xml_response(rates_page(user, currency, currencies, lines))


async def user_destinations(request: Request, context: ApiContext, user: User) -> Response:
    prefix = request.path_params["dest_id"]
    tariff = await context.query(tariff_rates.user_tariff, user.user_id, _now_ms(context))
    found = destinations(tariff, prefix) if tariff is not None and prefix.isdigit() else None
    if found is None:
        return xml_response(error_document(DESTINATIONS_NOT_FOUND))
    return xml_response(destinations_page(*found))


async def _personal(request: Request, context: ApiContext,
                    user: User) -> Response | tuple[User, Tariff | None, str, Prices]:
    """What both exports of personal rates start from: the owner (visible to `user`),
    the tariff in force now and its prices in the asked currency, or the error answer."""
    owner = await page_owner(context, user, request.path_params["user_id"])
    tariff = await context.query(tariff_rates.user_tariff, owner.user_id, _now_ms(context))
    shown = await _prices(request, context, owner, tariff)
    if isinstance(shown, str):
        return xml_response(error_document(shown))
    currency, _, prices = shown
    return owner, tariff, currency, prices


async def personal_rates_csv(request: Request, context: ApiContext, user: User) -> Response:
    found = await _personal(request, context, user)
    if isinstance(found, Response):
        return found
    owner, tariff, currency, prices = found
    return Response(rates_csv(tariff, prices, currency).encode("utf-8"), media_type="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="personal_rates_{owner.user_id}.csv"'})


async def personal_rates_pdf(request: Request, context: ApiContext, user: User) -> Response:
    found = await _personal(request, context, user)
    if isinstance(found, Response):
        return found
    owner, tariff, currency, prices = found
    # reportlab is CPU-bound (about a second per few thousand rates): off the event loop
    body = await run_in_threadpool(rates_pdf, tariff, prices, currency, owner, context.clock())
    return Response(body,
                    media_type="application/pdf",
                    headers={"Content-Disposition":
                             f'attachment; filename="personal_rates_{owner.user_id}.pdf"'})


def routes(context: ApiContext) -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route("/tariffs/user_rates", page_endpoint(user_rates, context), methods=both),
        Route("/directions/dg_list_user_destinations/{dest_id}",
              page_endpoint(user_destinations, context), methods=both),
        Route("/tariffs/generate_personal_rates_csv/{user_id:int}",
              page_endpoint(personal_rates_csv, context), methods=both),
        Route("/tariffs/generate_personal_rates_pdf/{user_id:int}",
              page_endpoint(personal_rates_pdf, context), methods=both),
    ]
