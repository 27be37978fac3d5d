"""user_register (alias registration, api/registration.py) over an in-memory reader and
appender: the whole answer and events of a registration, and every error in order."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from api import registration
from api.app import create_app
from cdrflow.passwords import password_matches
from cdrflow.settings import Settings
from projections.accounts import account_by_id, user_version
from projections.devices import pin_in_use
from projections.queries import User
from rating.reference import Account
from streams.account_events import parse_account_event
from streams.topics import ACCOUNT_EVENTS
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
UNIQUEHASH = "kljsdfg54kl"
ADMIN = Account(0, "admin", "System", "Admin", "admin", 0, "EUR", 7, "Europe/Vilnius")
USERS = {0: User(0, "admin", "System", "Admin", "admin", 0, "EUR", "Europe/Vilnius"),
         2: User(2, "john", "John", "Smith", "user", 0, "USD", "UTC")}
USED_PINS = {"001234"}
FORM = {"id": UNIQUEHASH, "username": "newbie", "password": "s3cret pass",
        "password2": "s3cret pass", "first_name": "Nora", "last_name": "Newman",
        "country_id": "123", "email": "nora@example.com", "device_type": "sip"}


class Reader(UsersReader):
    def __init__(self, admin: Account | None = ADMIN) -> None:
        super().__init__(USERS)
        self.waited: list[int] = []  # the users whose projection the answer waited for
        self.answers: dict[Callable[..., Any], Callable[..., Any]] = {
            account_by_id: lambda i: admin if i == 0 else None,
            pin_in_use: USED_PINS.__contains__,
            user_version: self._version,
        }

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.answers[read](*args)

    def _version(self, user_id: int) -> int:
        self.waited.append(user_id)
        return 0  # the offset of user_created (Appender's first)


class Appender:
    def __init__(self) -> None:
        self.events: list[tuple[str, bytes, dict[str, Any]]] = []

    async def append(self, topic: str, key: bytes, value: bytes) -> int:
        self.events.append((topic, key, orjson.loads(value)))
        return len(self.events) - 1


@pytest.fixture(autouse=True)
def drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids 901, 902...; PIN draws 1234 (taken), then 42."""
    ids: Iterator[int] = iter(range(901, 1000))
    pins: Iterator[int] = iter([1234, 42])
    monkeypatch.setattr(registration, "new_id", lambda: next(ids))
    monkeypatch.setattr(registration.secrets, "randbelow", lambda _: next(pins))


def register(data: dict[str, str], appender: Appender | None = None,
             reader: Reader | None = None, method: str = "POST",
             path: str = "user_register", **settings: Any) -> str:
    app_settings = Settings(api_secret="456789", api_registration=True,
                            api_uniquehash=UNIQUEHASH).with_(**settings)
    app = create_app(app_settings, reader=reader or Reader(),  # type: ignore[arg-type]
                     appender=appender or Appender())
    with TestClient(app, client=("10.0.0.1", 5000)) as client:
        if method == "GET":
            return client.get(f"/billing/api/{path}", params=data).text
        return client.post(f"/billing/api/{path}", data=data).text


def page_error(text: str) -> str:
    return f"{HEAD}<page>\n  <error>{text}</error>\n</page>\n"


SUCCESS = f"""{HEAD}<page>
  <status>Registration successful</status>
  <user_device_settings>
    <device_type>SIP</device_type>
    <username>902</username>
    <password></password>
    <pin>000042</pin>
    <server_ip></server_ip>
  </user_device_settings>
</page>
"""


@pytest.mark.parametrize("path", ["user_register", "registration"])
def test_a_registration_creates_the_user_its_details_and_a_device(path: str) -> None:
    appender, reader = Appender(), Reader()
    form = {**FORM, "username": " newbie ", "phone": "+37052000000", "mob_phone": "+3706",
            "fax": "", "client_id": "AB 1", "vat_number": "LT1", "state": "Vilniaus",
            "county": "x", "city": "Vilnius", "postcode": "LT-01100",
            "address": "Gedimino <pr.> 1", "hash": "ignored"}
    assert register(form, appender, reader, path=path) == SUCCESS
    assert reader.waited == [901]
    assert [(topic, key) for topic, key, _ in appender.events] == [(ACCOUNT_EVENTS, b"901")] * 3
    user, details, device = (event for _, _, event in appender.events)
    assert password_matches("s3cret pass", user.pop("password_hash"))
    assert user == {
        "schema": "cdrflow.account-event/1", "type": "user_created", "user_id": 901,
        "username": "newbie", "first_name": "Nora", "last_name": "Newman", "role": "user",
        "owner_id": 0, "currency": "EUR", "tariff_id": 7, "timezone": "UTC",
        "tax_percent": "0", "account_type": "prepaid", "credit_limit": "0",
        "language": "en", "api_group": ""}
    assert details == {
        "schema": "cdrflow.account-event/1", "type": "personal_details_updated",
        "user_id": 901, "personal_id": "AB 1", "agreement_number": "", "agreement_date": "",
        "taxation_country": "", "vat_reg_number": "LT1", "reg_address": "Gedimino <pr.> 1",
        "reg_postcode": "LT-01100", "reg_city": "Vilnius", "reg_country": "123",
        "reg_state": "Vilniaus", "reg_direction": "", "reg_phone": "+37052000000",
        "reg_mobile": "+3706", "reg_fax": "", "reg_email": "nora@example.com"}
    assert device == {
        "schema": "cdrflow.account-event/1", "type": "device_created", "device_id": 902,
        "user_id": 901, "device_type": "SIP", "name": "902", "extension": "902",
        "description": "", "username": "902", "callerid": "", "pin": "000042"}
    for _, _, event in appender.events:  # the sink and the rater accept each
        parse_account_event(event)


def test_a_caller_id_goes_to_the_device() -> None:
    appender = Appender()
    assert register({**FORM, "device_type": "IAX2", "caller_id": '"Nora" <209>'},
                    appender) == SUCCESS.replace("SIP", "IAX2")
    assert appender.events[2][2]["callerid"] == '"Nora" <209>'


LONG = "x" * 256


@pytest.mark.parametrize(("changes", "settings", "error"), [
    ({}, {"allow_api": False}, "API Requests are disabled"),
    ({}, {"api_ip_restrict": True, "api_allowed_ips": ("10.0.0.2",)}, "Access Denied"),
    ({}, {"api_registration": False}, "Registration over API is disabled"),
    ({"id": ""}, {"api_registration": False}, "Registration over API is disabled"),
    ({"id": None}, {}, "Dont be so smart"),
    ({"id": ""}, {}, "Dont be so smart"),
    ({"id": "kljsdfg54kL"}, {}, "Dont be so smart"),
    ({"id": ""}, {"api_uniquehash": ""}, "Dont be so smart"),
    ({}, {"api_uniquehash": ""}, "Dont be so smart"),
    ({"username": None}, {}, "Invalid parameter: username"),
    ({"username": "  "}, {}, "Invalid parameter: username"),
    ({"username": LONG}, {}, "Invalid parameter: username"),
    ({"username": "john"}, {}, "Such username is already taken"),
    ({"username": " john "}, {}, "Such username is already taken"),
    ({"password": "", "password2": ""}, {}, "Invalid parameter: password"),
    ({"password2": "s3cret pas"}, {}, "Passwords do not match"),
    ({"password2": None}, {}, "Passwords do not match"),
    ({"first_name": ""}, {}, "Invalid parameter: first_name"),
    ({"last_name": LONG}, {}, "Invalid parameter: last_name"),
    ({"country_id": None}, {}, "Invalid parameter: country_id"),
    ({"email": None}, {}, "Invalid parameter: email"),
    ({"email": "nora.example.com"}, {}, "Invalid parameter: email"),
    ({"email": "nora@example.com", "phone": LONG}, {}, "Invalid parameter: phone"),
    ({"device_type": None}, {}, "Device_type_invalid"),
    ({"device_type": "SCCP"}, {}, "Device_type_invalid"),
    ({"caller_id": "a\nb"}, {}, "Invalid parameter: caller_id"),
    ({"county": LONG}, {}, "Invalid parameter: county"),
])
def test_errors_in_order_and_nothing_appended(changes: dict[str, str | None],
                                              settings: dict[str, Any], error: str) -> None:
    form = {name: value for name, value in {**FORM, **changes}.items() if value is not None}
    appender = Appender()
    assert register(form, appender, **settings) == page_error(error)
    assert appender.events == []


def test_without_an_admin_nobody_owns_the_registrant() -> None:
    appender = Appender()
    assert register(FORM, appender, Reader(admin=None)) == page_error("User was not found")
    assert appender.events == []


def test_get_is_refused_unless_allowed() -> None:
    assert register(FORM, method="GET") == page_error("GET Requests are disabled")
    assert register(FORM, method="GET", allow_get_api=True) == SUCCESS


def test_no_free_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registration.secrets, "randbelow", lambda _: 1234)
    appender = Appender()
    assert register(FORM, appender) == page_error("Device was not created")
    assert appender.events == []
