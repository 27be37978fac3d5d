"""Personal details and payments pages (docs/payments.md).

`/users/personal_details`: the account card (alias, account type, balance, credit) and
the personal details; `/users/update_personal_details/<user id>` saves them as a
personal_details_updated event; `/payments/personal_payments`: the user's payments.
A user sees their own pages; a reseller also their users', the admin everyone's
(`/users/personal_details/<user id>`, `/payments/personal_payments/<user id>`).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.access import can_change, page_owner
from api.context import ApiContext
from api.errors import ApiError, xml_response
from api.pages import action, page
from api.params import read_params
from api.session import page_endpoint
from api.user_calls import user_zone
from api.xml import element, moment, money
from projections.balance import balance
from projections.devices import devices_of_user
from projections.payments import payments
from projections.personal_details import details_version, personal_details
from projections.queries import User
from streams.account_events import account_event, encoded
from streams.payment_events import Payment, with_vat
from streams.personal_details_events import FIELDS, UPDATED, check
from streams.topics import ACCOUNT_EVENTS

EDIT = "edit_personal"
CHANGED = "Personal details changed"
NAMES_ARE_FIXED = "First name and surname can not be changed here"
NO_LIMIT = "No Limit"
# The elements of other_details and registration that show personal fields.
OTHER_DETAILS = ("personal_id", "agreement_number", "agreement_date", "taxation_country",
                 "vat_reg_number")
REGISTRATION = tuple(name for name in FIELDS if name.startswith("reg_"))


async def show_details(request: Request, context: ApiContext, user: User) -> Response:
    owner = await page_owner(context, user, request.path_params.get("user_id", user.user_id))
    details = await context.query(personal_details, owner.user_id)
    devices = await context.query(devices_of_user, owner.user_id)
    current = await context.query(balance, owner.user_id)
    values = details.values()
    other = "".join(f"   {element(FIELDS[name], values[name])}\n" for name in OTHER_DETAILS)
    registration = "".join(f"   {element(FIELDS[name], values[name])}\n"
                           for name in REGISTRATION)
    body = (
        " <details>\n"
        "  <main_details>\n"
        f"   {element('alias', devices[0].extension if devices else '')}\n"
        f"   {element('account', owner.account_type.capitalize())}\n"
        f"   {element('balance', f'{amount(current)} {owner.currency}')}\n"
        f"   {element('credit', credit(owner.credit_limit))}\n"
        "  </main_details>\n"
        "  <other_details>\n"
        f"   {element('username', owner.first_name)}\n"
        f"   {element('surname', owner.last_name)}\n"
        f"{other}"
        f"   {element('vat_percent', money(owner.tax_percent))}\n"
        "  </other_details>\n"
        "  <registration>\n"
        f"{registration}"
        "  </registration>\n"
        " </details>\n"
    )
    return xml_response(page("Personal details", body, user_id=owner.user_id))


async def update_details(request: Request, context: ApiContext, user: User) -> Response:
    params = await read_params(request, allow_get=False)
    try:
        owner = await page_owner(context, user, request.path_params["user_id"], can_change)
    except ApiError as exc:
        return xml_response(action(EDIT, False, exc.message))
    given = params.values
    if given.get("username", owner.first_name).strip() != owner.first_name.strip() or \
            given.get("surname", owner.last_name).strip() != owner.last_name.strip():
        return xml_response(action(EDIT, False, NAMES_ARE_FIXED))
    current = (await context.query(personal_details, owner.user_id)).values()
    values = {name: given[param].strip() if param in given else current[name]
              for name, param in FIELDS.items()}
    problem = check(values)
    if problem is not None:
        return xml_response(action(EDIT, False, problem))
    event = account_event(UPDATED, user_id=owner.user_id, **values)
    offset = await context.append(ACCOUNT_EVENTS, *encoded(owner.user_id, event))
    # the event carries every detail: the next save must be built on this one
    await context.projected(details_version, owner.user_id, offset)
    return xml_response(action(EDIT, True, CHANGED))


async def show_payments(request: Request, context: ApiContext, user: User) -> Response:
    owner = await page_owner(context, user, request.path_params.get("user_id", user.user_id))
    found = await context.query(payments, owner.user_id)
    zone = user_zone(owner.timezone)
    rows = "".join(_payment(p, zone) for p in found)
    body = f" <payments>\n{rows} </payments>\n" if rows else " <payments></payments>\n"
    return xml_response(page("Payments", body, user_id=owner.user_id))


def _payment(payment: Payment, zone: tzinfo) -> str:
    confirmed = moment(_utc(payment.confirmed_ms), zone) if payment.confirmed_ms else ""
    return (
        "  <payment>\n"
        f"   <payment_date>{moment(_utc(payment.paid_ms), zone)}</payment_date>\n"
        f"   <confirmed_date>{confirmed}</confirmed_date>\n"
        f"   {element('payment_type', payment_type(payment.payment_type))}\n"
        f"   <amount>{amount(payment.amount)}</amount>\n"
        f"   <vat>{money(payment.vat_percent)}</vat>\n"
        f"   <amount_vat>{amount(with_vat(payment.amount, payment.vat_percent))}</amount_vat>\n"
        f"   {element('currency', payment.currency)}\n"
        f"   <completed>{'Yes' if payment.completed else 'No'}</completed>\n"
        "  </payment>\n"
    )


def amount(value: Decimal) -> str:
    """An amount of money as MOR's pages show balances and payments: exact, without
    trailing zeros or exponent: 100 -> "100", 11.50 -> "11.5", -0.25 -> "-0.25"."""
    text = money(value)
    return text[:-2] if text.endswith(".0") else text


def credit(limit: Decimal) -> str:
    """The credit limit: "No Limit" for -1 (any negative), else the amount."""
    return NO_LIMIT if limit < 0 else amount(limit)


def payment_type(kind: str) -> str:
    """A payment type as the page shows it: manual -> Manual, paypal -> Paypal."""
    return kind[:1].upper() + kind[1:]


def _utc(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms // 1000, tz=UTC)


def routes(context: ApiContext) -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route("/users/personal_details", page_endpoint(show_details, context), methods=both),
        Route("/users/personal_details/{user_id:int}", page_endpoint(show_details, context),
              methods=both),
        Route("/users/update_personal_details/{user_id:int}",
              page_endpoint(update_details, context), methods=["POST"]),
        Route("/payments/personal_payments", page_endpoint(show_payments, context),
              methods=both),
        Route("/payments/personal_payments/{user_id:int}",
              page_endpoint(show_payments, context), methods=both),
    ]
