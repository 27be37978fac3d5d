"""Every method under /billing/api/, by its name and by each pre-X4 alias, over the real
services: a wrong hash is refused with the method's `Incorrect hash` answer, and a hash
over the hashed parameters in the order they arrive in the request (not the documented
one) is accepted, whatever the method then says of the values; no answer is an
`Internal error`. A user in a permission group is refused every catalogue method the
group does not grant, and every writing method it grants only to read.

The methods come from `api.catalogue` and the older modules, so a method added later is
tested here without a line of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from api import call_quality, callflow, rejected_calls, user_calls
from api.catalogue import METHODS
from api.errors import ApiError, ErrorKind
from api.hash import mor_hash
from api.methods import Envelope, MorMethod
from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.permission_groups import permission_group
from projections.queries import user_by_username
from streams.account_events import account_event, encoded
from streams.permission_group_events import SET
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS
from tests.integration.conftest import SECRET
from tests.integration.support import Processes, wait_for

pytestmark = pytest.mark.integration

ALIASES = {  # research/mor_api.md, section 1: every pre-X4 name and its method
    "user_calls": "user_calls_get", "balance": "user_balance_get",
    "user_details": "user_details_get", "user_update_api": "user_details_update",
    "user_balance_change": "user_balance_update", "device_list": "devices_get",
    "get_tariff": "tariff_rates_get", "rate": "rate_get", "payments_list": "payments_get",
    "create_payment": "payment_create", "invoices": "invoices_get",
    "phonebooks": "phonebooks_get", "financial_statements": "financial_statements_get",
    "callback": "callback_init", "get_version": "system_version_get",
    "registration": "user_register",
}


@dataclass(frozen=True)
class Checked:
    path: str
    hashed: tuple[str, ...]
    wrong_hash: str  # the whole answer to a wrong hash


def _older() -> Iterator[Checked]:
    bare = Envelope.BARE.document("Incorrect hash")
    yield Checked("user_calls_get", user_calls.HASHED, bare)
    yield Checked("user_calls", user_calls.HASHED, bare)
    yield Checked("call_quality_get", call_quality.HASHED, bare)
    yield Checked("rejected_calls_get", rejected_calls.HASHED, bare)
    yield Checked("device_callflow_update", callflow.HASHED, bare)
    yield Checked("active_calls_get", (), bare)  # or over `u` (active_calls.HASHED)


# the methods that check the caller themselves, to answer in their own words
OWN_WORDS = {
    "callback_init": '<?xml version="1.0" encoding="UTF-8"?>\n'
                     "<Status>Not authenticated</Status>\n",
}
# methods with neither caller nor hash, so no wrong hash to refuse: user_register checks
# `id` against the uniquehash instead (tests/*/test_registration.py)
NO_HASH = frozenset({"user_register"})


def _catalogued() -> Iterator[Checked]:
    for method in METHODS:
        if method.path_suffix or method.name in NO_HASH:  # no hash (user_balance_get_by_*)
            continue
        shown = "Access Denied" if method.uniform_error is ErrorKind.ACCESS_DENIED \
            else "Incorrect hash"
        refusal = OWN_WORDS[method.name] if not method.authenticated \
            else method.envelope.document(shown)
        for name in method.names:
            yield Checked(name, method.hashed, refusal)


CHECKED = [*_older(), *_catalogued()]
VALUES = {"user_id": "2", "s_user": "2", "device_id": "10", "username": "john",
          "tariff_id": "1", "period_start": "1795132800", "period_end": "1795219199",
          "from": "1795132800", "till": "1795219199"}


def value_of(name: str) -> str:
    return VALUES.get(name, "1")


def test_every_alias_of_the_research_notes_is_routed() -> None:
    assert sorted(m.name for m in METHODS if not m.authenticated and not m.path_suffix) == \
        sorted([*OWN_WORDS, *NO_HASH])
    routed = {checked.path for checked in CHECKED} | {
        name for method in METHODS if method.name in NO_HASH for name in method.names}
    assert sorted(set(ALIASES) - routed) == []
    names = {method.name: method.names for method in METHODS}
    assert [alias for alias, target in ALIASES.items()
            if target != "user_calls_get" and alias not in names.get(target, ())] == []


@pytest.mark.parametrize("checked", CHECKED, ids=[c.path for c in CHECKED])
def test_a_wrong_hash_is_refused(api: TestClient, checked: Checked, sink: object) -> None:
    data = {"u": "admin", **{name: value_of(name) for name in checked.hashed},
            "hash": "0" * 40}
    answer = api.post(f"/billing/api/{checked.path}", data=data)
    assert (answer.status_code, answer.text) == (200, checked.wrong_hash)


@pytest.mark.parametrize("checked", CHECKED, ids=[c.path for c in CHECKED])
def test_a_hash_in_request_order_is_accepted(api: TestClient, checked: Checked,
                                             sink: object) -> None:
    sent = list(reversed(checked.hashed))  # the request's order: not the documented one
    data = {"u": "admin", **{name: value_of(name) for name in sent}}
    data["hash"] = mor_hash((data[name] for name in sent), SECRET)
    answer = api.post(f"/billing/api/{checked.path}", data=data)
    assert answer.status_code == 200
    assert "Incorrect hash" not in answer.text
    assert "Internal error" not in answer.text
    assert answer.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')


# the group grants reading every method except a few; the writing ones only to read
DENIED = frozenset({"aggregate_get", "users_get", "payments_get"})
GRANTED = {method.name: "read" for method in METHODS if method.name not in DENIED}
GATED = [(name, method) for method in METHODS for name in method.names
         if method.authenticated and not method.path_suffix]


@pytest.fixture(scope="module")
def grouped(settings: Settings, sink: Processes) -> None:
    user = {"user_id": 44, "username": "gated", "role": "user", "owner_id": 0,
            "currency": "USD", "tariff_id": 1, "api_group": "catalogue-reads"}
    asyncio.run(publish(settings, ACCOUNT_EVENTS, [
        encoded(0, account_event(SET, group="catalogue-reads", methods=GRANTED)),
        encoded(44, account_event("user_created", **user))]))
    client = connect(settings.clickhouse)
    wait_for(lambda: permission_group(client, "catalogue-reads") is not None
             and user_by_username(client, "gated") is not None, 60, "the group projected",
             sink)


@pytest.mark.parametrize(("name", "method"), GATED, ids=[n for n, _ in GATED])
def test_the_permission_group_decides(api: TestClient, grouped: None, name: str,
                                      method: MorMethod) -> None:
    data = {"u": "gated", **{param: value_of(param) for param in method.hashed}}
    data["hash"] = mor_hash((data[param] for param in method.hashed), SECRET)
    text = api.post(f"/billing/api/{name}", data=data).text
    refused = method.envelope.document(
        ApiError(method.uniform_error or ErrorKind.NOT_AUTHORIZED).message)
    if method.name in DENIED or method.write:
        assert text == refused
    else:
        assert text != refused and "Internal error" not in text
