"""dids_get and did_create: the DID inventory, for the admin and accountants.

did_create appends the `did_created` event the rater and the sink read: a free DID
(owner 0, keyed `"0"`, no tariffs yet) of the given provider. cdrflow's DIDs have no id
apart from their number, so `<id>` is the number. (docs/api.md, "DIDs")
"""

from __future__ import annotations

from api.errors import ApiError, ErrorKind
from api.methods import Envelope, MethodCall, MorMethod
from api.xml import Node, render
from projections.dids import STATUSES, DidFilter, DidRow, did_exists, dids, provider_exists
from streams.account_events import account_event, encoded
from streams.topics import ACCOUNT_EVENTS

DID_ROLES = frozenset({"admin", "accountant"})
MAX_DID = 40  # digits
DID_CREATED = "DID created"


async def dids_get(call: MethodCall) -> str:
    number = call.text("search_did_number").strip()
    if len(number) > MAX_DID or (number and not (number.isascii() and number.isdigit())):
        raise ApiError(ErrorKind.INVALID_PARAMETER, "search_did_number")
    status = call.text("search_status").strip().lower()
    if status and status not in STATUSES:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "search_status")
    first = call.identifier("from")
    if first == 0:
        raise ApiError(ErrorKind.INVALID_PARAMETER, "from")
    where = DidFilter(number=number, status=status, user_id=call.identifier("search_user"),
                      owner_of_device=call.identifier("search_device"),
                      provider_id=call.identifier("search_provider"),
                      offset=(first or 1) - 1, limit=call.identifier("max_results"))
    found = await call.context.query(dids, where)
    return render(Node("page", [Node("dids", [_node(did) for did in found])]))


def _node(did: DidRow) -> Node:
    return Node("did", [Node("id", did.did), Node("did_number", did.did),
                        Node("did_status", did.status), Node("user_id", did.user_id),
                        Node("provider_id", did.provider_id)])


async def did_create(call: MethodCall) -> str:
    context = call.context
    provider_id = call.required_id("provider_id", ErrorKind.PROVIDER_NOT_FOUND)
    if not await context.query(provider_exists, provider_id):
        raise ApiError(ErrorKind.PROVIDER_NOT_FOUND)
    did = call.text("did").strip()
    if not did or not did.isascii() or not did.isdigit() or len(did) > MAX_DID:
        raise ApiError(ErrorKind.INVALID_DID)
    if await context.query(did_exists, did):
        raise ApiError(ErrorKind.DID_EXISTS)
    event = account_event("did_created", did=did, user_id=0, incoming_tariff_id=0,
                          owner_tariff_id=0, provider_tariff_id=0, provider_id=provider_id)
    await context.append(ACCOUNT_EVENTS, *encoded(0, event))
    return render(Node("page", [Node("status", [Node("success", DID_CREATED)]),
                                Node("did_details", [Node("id", did)])]))


METHODS: list[MorMethod] = [
    MorMethod("dids_get", dids_get, roles=DID_ROLES, refused=ErrorKind.NOT_AUTHORIZED_DIDS,
              envelope=Envelope.PAGE_STATUS),
    MorMethod("did_create", did_create, hashed=("provider_id", "did"), roles=DID_ROLES,
              refused=ErrorKind.NOT_AUTHORIZED_DIDS, write=True,
              envelope=Envelope.PAGE_STATUS),
]
