"""Every page tried as each role on another user's data: admin, reseller (on his own
user and on someone else's), user and accountant; reads and writes apart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import orjson
import pytest
from starlette.testclient import TestClient

from api.app import create_app
from cdrflow.passwords import hash_password
from cdrflow.settings import Settings
from rating.reference import ACCOUNT_SCHEMA
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS
from tests.integration.support import Processes, wait_for

pytestmark = pytest.mark.integration

ANN, SUB = 3, 6  # a user of the admin's; a user of reseller 5
DEVICE = {ANN: 11, SUB: 13}
PASSWORD = "matrix-secret"
PEOPLE = [
    {"user_id": 4, "username": "acc", "role": "accountant", "owner_id": 0},
    {"user_id": 5, "username": "res", "role": "reseller", "owner_id": 0},
    {"user_id": SUB, "username": "sub", "role": "user", "owner_id": 5},
]


def reads(target: int) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("GET", f"/phonebooks/list/{target}", {}),
        ("GET", f"/users/personal_details/{target}", {}),
        ("GET", f"/payments/personal_payments/{target}", {}),
        ("GET", f"/devices/callflow/{DEVICE[target]}", {}),
        ("GET", f"/tariffs/generate_personal_rates_csv/{target}", {}),
    ]


def writes(target: int, login: str) -> list[tuple[str, str, dict[str, str]]]:
    device = str(DEVICE[target])
    cli = f"3705200099{sorted(LOGINS).index(login)}"  # one per login: no duplicate refusal
    return [
        ("POST", f"/phonebooks/add_new/{target}", {"number": "370600", "name": "x"}),
        ("POST", "/devices/cli_add", {"device_id": device, "cli": cli,
                                      "description": "x"}),
        ("POST", f"/devices/callflow_edit/{device}?cft=busy", {"whattodo": "change_action",
                                                                "cf_action": "voicemail"}),
        ("POST", "/functions/activate_callback", {"src": "370600", "dst": "370601",
                                                  "acc": device}),
        ("POST", f"/users/update_personal_details/{target}", {"reg_city": "Vilnius"}),
    ]


def allowed(body: str) -> bool:
    refused = ("<error>" in body or "<status>failed</status>" in body
               or "Please log in" in body)
    return not refused


@pytest.fixture(scope="module")
def people(settings: Settings, sink: Processes) -> Iterator[None]:
    digest = hash_password(PASSWORD)
    events = [{"schema": ACCOUNT_SCHEMA, "type": "user_created", "first_name": "", "last_name": "",
               "currency": "USD", "tariff_id": 1, "timezone": "UTC", "password_hash": digest,
               **person} for person in PEOPLE]
    events.append({"schema": ACCOUNT_SCHEMA, "type": "device_created", "device_id": 13,
                   "user_id": SUB, "device_type": "SIP", "name": "sub", "extension": "601"})
    asyncio.run(publish(settings, ACCOUNT_EVENTS,
                        [(str(e["user_id"]).encode(), orjson.dumps(e)) for e in events]))
    client = TestClient(create_app(settings))
    with client:
        wait_for(lambda: all(_login(client, p["username"], PASSWORD) for p in PEOPLE), 30,
                 "the matrix users projected")
    yield


def _login(client: TestClient, username: str, password: str) -> bool:
    answer = client.post("/billing/api/login", data={"u": username, "p": password}).text
    return "<status>ok</status>" in answer


LOGINS = {"admin": "admin-demo", "john": "john-demo", "res": PASSWORD, "acc": PASSWORD}
# (role's login, target user) -> may read, may write
EXPECTED = {
    ("admin", ANN): (True, True), ("admin", SUB): (True, True),
    ("res", SUB): (True, True), ("res", ANN): (False, False),
    ("john", ANN): (False, False), ("john", SUB): (False, False),
    ("acc", ANN): (True, False), ("acc", SUB): (True, False),
}


@pytest.mark.parametrize(("login", "target"), sorted(EXPECTED))
def test_each_role_reads_and_writes_what_it_may(settings: Settings, people: None, login: str,
                                                target: int) -> None:
    may_read, may_write = EXPECTED[(login, target)]
    with TestClient(create_app(settings)) as client:
        assert _login(client, login, LOGINS[login])
        found = {path: allowed(client.request(method, path, data=data).text)
                 for method, path, data in reads(target)}
        assert found == {path: may_read for _, path, _ in reads(target)}
        found = {path: allowed(client.request(method, path, data=data).text)
                 for method, path, data in writes(target, login)}
        assert found == {path: may_write for _, path, _ in writes(target, login)}
