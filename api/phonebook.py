"""Phonebook pages: `/phonebooks/list/<user id>`, `add_new/<user id>`, `destroy/<entry id>`.

A user sees and changes only their own phonebook; a reseller also their users', the
admin everyone's. Writes append phonebook events; the page shows them within a second.
"""

from __future__ import annotations

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
from api.xml import escape, moment
from projections import phonebook
from projections.queries import User, user_by_id
from streams.account_events import account_event, encoded, new_id
from streams.phonebook_events import ADDED, DELETED, MAX_NAME, MAX_NUMBER
from streams.topics import ACCOUNT_EVENTS

ADD = "add_phonebook_entry"
DELETE = "delete_phonebook_entry"
FILL_ALL_FIELDS = "Please fill all fields"
TOO_LONG = "Number or name is too long"
ADDED_OK = "Record added"
DELETED_OK = "Record deleted"
WENT_WRONG = "We're sorry, but something went wrong"


async def list_entries(request: Request, context: ApiContext, user: User) -> Response:
    owner = await page_owner(context, user, request.path_params.get("user_id", user.user_id))
    entries = await context.query(phonebook.entries, owner.user_id)
    zone = user_zone(owner.timezone)
    rows = "".join(
        "  <entry>\n"
        f"   <entry_number>{escape(e.number)}</entry_number>\n"
        f"   <entry_name>{escape(e.name)}</entry_name>\n"
        f"   <entry_added>{moment(e.added, zone)}</entry_added>\n"
        "  </entry>\n"
        for e in entries
    )
    body = f" <entries>\n{rows} </entries>\n" if rows else " <entries></entries>\n"
    return xml_response(page("Phonebook", body, user_id=owner.user_id))


async def add_entry(request: Request, context: ApiContext, user: User) -> Response:
    params = await read_params(request, allow_get=True)
    try:
        owner = await page_owner(context, user, request.path_params["user_id"], can_change)
    except ApiError as exc:
        return xml_response(action(ADD, False, exc.message))
    number, name = (params.get("number") or "").strip(), (params.get("name") or "").strip()
    if not number or not name:
        return xml_response(action(ADD, False, FILL_ALL_FIELDS))
    if len(number) > MAX_NUMBER or len(name) > MAX_NAME:
        return xml_response(action(ADD, False, TOO_LONG))
    event = account_event(ADDED, entry_id=new_id(), user_id=owner.user_id, number=number,
                          name=name, added_ms=int(context.clock().timestamp() * 1000))
    await context.append(ACCOUNT_EVENTS, *encoded(owner.user_id, event))
    return xml_response(action(ADD, True, ADDED_OK))


async def destroy_entry(request: Request, context: ApiContext, user: User) -> Response:
    found = await context.query(phonebook.entry, request.path_params["entry_id"])
    owner = await context.query(user_by_id, found.user_id) if found else None
    if found is None or owner is None or not can_change(user, owner):
        return xml_response(action(DELETE, False, WENT_WRONG))
    event = account_event(DELETED, entry_id=found.entry_id, user_id=found.user_id,
                          deleted_ms=int(context.clock().timestamp() * 1000))
    await context.append(ACCOUNT_EVENTS, *encoded(found.user_id, event))
    return xml_response(action(DELETE, True, DELETED_OK))


def routes(context: ApiContext) -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route("/phonebooks/list", page_endpoint(list_entries, context), methods=both),
        Route("/phonebooks/list/{user_id:int}", page_endpoint(list_entries, context),
              methods=both),
        Route("/phonebooks/add_new/{user_id:int}", page_endpoint(add_entry, context),
              methods=["POST"]),
        Route("/phonebooks/destroy/{entry_id:int}", page_endpoint(destroy_entry, context),
              methods=["POST"]),
    ]
