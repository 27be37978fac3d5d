"""phonebooks_get (phonebooks) and phonebook_edit: a user's phonebook over the API.

MOR's "phonebook" of these methods is one entry (id, name, number, speed dial). The
entries are the ones the Phonebook pages keep (api/phonebook.py); an edit appends a
`phonebook_entry_updated` event carrying the whole entry. (docs/api.md, "Phonebooks")
"""

from __future__ import annotations

from api.access import can_change, page_owner
from api.errors import ApiError, ErrorKind
from api.methods import Envelope, MethodCall, MorMethod
from api.xml import Node, render
from projections import phonebook
from projections.phonebook import Entry
from projections.queries import user_by_id
from streams.account_events import account_event, encoded
from streams.phonebook_events import MAX_NAME, MAX_NUMBER, UPDATED, valid_speeddial
from streams.topics import ACCOUNT_EVENTS

UPDATED_OK = "Phonebook was updated"


async def phonebooks_get(call: MethodCall) -> str:
    user_id = call.required_id("user_id", ErrorKind.USER_NOT_FOUND)
    owner = await page_owner(call.context, call.caller, user_id)
    found = await call.context.query(phonebook.entries, owner.user_id)
    if not found:
        raise ApiError(ErrorKind.NO_PHONEBOOKS)
    return render(Node("page", [Node("phonebooks", [_node(entry) for entry in found])]))


def _node(entry: Entry) -> Node:
    return Node("phonebook", [Node("id", entry.entry_id), Node("name", entry.name),
                              Node("number", entry.number), Node("speeddial", entry.speeddial)])


async def phonebook_edit(call: MethodCall) -> str:
    context = call.context
    entry_id = call.required_id("phonebook_id", ErrorKind.PHONEBOOK_NOT_FOUND)
    found = await context.query(phonebook.entry, entry_id)
    owner = await context.query(user_by_id, found.user_id) if found else None
    if found is None or owner is None or not can_change(call.caller, owner):
        raise ApiError(ErrorKind.PHONEBOOK_NOT_FOUND)
    name = call.text("name", found.name).strip()
    number = call.text("number", found.number).strip()
    speeddial = call.text("speeddial", found.speeddial).strip()
    if not name or len(name) > MAX_NAME:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "name")
    if not number or len(number) > MAX_NUMBER:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "number")
    if not valid_speeddial(speeddial):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "speeddial")
    event = account_event(UPDATED, entry_id=found.entry_id, user_id=found.user_id,
                          number=number, name=name, speeddial=speeddial,
                          added_ms=int(found.added.timestamp() * 1000),
                          updated_ms=int(call.now().timestamp() * 1000))
    offset = await context.append(ACCOUNT_EVENTS, *encoded(found.user_id, event))
    # the event carries the whole entry: the next edit must be built on this one
    await context.projected(phonebook.entry_version, found.entry_id, offset)
    edited = Entry(found.entry_id, found.user_id, number, name, found.added, speeddial)
    return render(Node("page", [Node("status", UPDATED_OK), _node(edited)]))


METHODS: list[MorMethod] = [
    MorMethod("phonebooks_get", phonebooks_get, hashed=("user_id",), aliases=("phonebooks",),
              envelope=Envelope.PAGE),
    MorMethod("phonebook_edit", phonebook_edit, hashed=("phonebook_id",), write=True,
              envelope=Envelope.PAGE),
]
