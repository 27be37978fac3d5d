"""Subscription and invoice pages of the logged-in user (docs/invoices.md):
`/services/user_subscriptions` and `/accounting/user_invoices`.

Element names and order are the spec's, including its spelling `acivation_start` and
`acivation_end`. Moments are in the user's time zone. A subscription's price is shown
as the spec shows it, amount and currency (`10 USD`); invoice money as everywhere else
(`money`: exact, at least one decimal), `vat` being the VAT percent (`15.0`).
"""

from __future__ import annotations

from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.context import ApiContext
from api.errors import xml_response
from api.pages import page
from api.session import page_endpoint
from api.user_calls import user_zone
from api.xml import escape, moment, money
from projections import invoices, subscriptions
from projections.queries import User

SUBSCRIPTIONS_PAGE = "User subscriptions"
INVOICES_PAGE = "Invoices"


async def user_subscriptions(request: Request, context: ApiContext, user: User) -> Response:
    found = await context.query(subscriptions.user_subscriptions, user.user_id)
    zone = user_zone(user.timezone)

    def when(epoch_ms: int) -> str:
        return moment(invoices.utc(epoch_ms), zone) if epoch_ms else ""

    rows = "".join(
        "  <subscription>\n"
        f"   <service>{escape(s.service.name if s.service else '')}</service>\n"
        f"   <date_added>{when(s.subscription.added_ms)}</date_added>\n"
        f"   <acivation_start>{when(s.subscription.activation_start_ms)}</acivation_start>\n"
        f"   <acivation_end>{when(s.subscription.activation_end_ms)}</acivation_end>\n"
        f"   <price>{_price(s.service.price, s.service.currency) if s.service else ''}</price>\n"
        "  </subscription>\n"
        for s in found
    )
    body = (f" <subscriptions>\n{rows} </subscriptions>\n" if rows
            else " <subscriptions></subscriptions>\n")
    return xml_response(page(SUBSCRIPTIONS_PAGE, body, user_id=user.user_id))


async def user_invoices(request: Request, context: ApiContext, user: User) -> Response:
    found = await context.query(invoices.invoices, user.user_id)
    zone = user_zone(user.timezone)
    rows = "".join(
        "  <invoice>\n"
        f"   <user>{escape(user.nice_name)}</user>\n"
        f"   <inv_number>{escape(i.invoice.number)}</inv_number>\n"
        f"   <period_start>{moment(invoices.utc(i.invoice.period_start_ms), zone)}"
        "</period_start>\n"
        # the end is exclusive; the page shows the period's last second
        f"   <period_end>{moment(invoices.utc(i.invoice.period_end_ms - 1000), zone)}"
        "</period_end>\n"
        f"   <issue_date>{moment(invoices.utc(i.invoice.issued_ms), zone)}</issue_date>\n"
        f"   <paid>{1 if i.paid_ms else 0}</paid>\n"
        f"   <paid_date>{moment(invoices.utc(i.paid_ms), zone) if i.paid_ms else ''}"
        "</paid_date>\n"
        f"   <price>{money(i.invoice.price)}</price>\n"
        f"   <vat>{money(i.invoice.vat_percent)}</vat>\n"
        f"   <price_vat>{money(i.invoice.price_with_vat)}</price_vat>\n"
        "  </invoice>\n"
        for i in found
    )
    body = f" <invoices>\n{rows} </invoices>\n" if rows else " <invoices></invoices>\n"
    return xml_response(page(INVOICES_PAGE, body, user_id=user.user_id))


def _price(amount: Decimal, currency: str) -> str:
    """`10 USD`, `9.99 USD`: the exact amount without trailing zeros, then the currency."""
    text = format(amount.normalize(), "f") if not amount.is_zero() else "0"
    return f"{text} {escape(currency)}"


def routes(context: ApiContext) -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route("/services/user_subscriptions", page_endpoint(user_subscriptions, context),
              methods=both),
        Route("/accounting/user_invoices", page_endpoint(user_invoices, context),
              methods=both),
    ]
