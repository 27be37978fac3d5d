"""devices_get, device_details_get, device_create and cli_add over an in-memory reader:
whole answers and every documented error, as each role."""

from __future__ import annotations

import gzip
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections import clis, phonebook
from projections.balance import balance
from projections.devices import (
    Device,
    device_by_id,
    device_by_username,
    devices_of_user,
    pin_in_use,
)
from projections.dids import DidFilter, DidRow, did_exists, dids, provider_exists
from projections.permission_groups import permission_group
from projections.phonebook import Entry
from projections.queries import User, user_by_id
from projections.webhooks import call_end_url
from rating.reference import ReferenceData
from streams.account_events import parse_account_event
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
ADMIN = User(0, "admin", "", "", "admin", 0, "USD", "UTC")
JOHN = User(2, "john", "John", "Smith", "user", 0, "USD", "UTC")
RESELLER = User(3, "reseller", "", "", "reseller", 0, "USD", "UTC")
ANN = User(4, "ann", "Ann", "", "user", 3, "EUR", "UTC")  # the reseller's
ACCOUNTANT = User(5, "accountant", "", "", "accountant", 0, "USD", "UTC")
USERS = {u.user_id: u for u in (ADMIN, JOHN, RESELLER, ANN, ACCOUNTANT)}
DEVICES = [Device(10, 2, "SIP", "john-desk", "201", "john-desk", "201", "", "1234"),
           Device(12, 2, "IAX2", "john-soft", "202", "John's softphone", "john202",
                  '"John" <202>'),
           Device(20, 4, "SIP", "ann-desk", "401", "ann-desk", "401", "", "5555")]
ENTRIES = [Entry(7001, 2, "37061234567", "Ann <mobile>", NOW, "1"),
           Entry(7002, 2, "442071234567", "London office", NOW),
           Entry(7003, 4, "37060000000", "Bob", NOW)]


class FakeReader(UsersReader):
    """The users above and the devices, CLIs, phonebook entries, DIDs and providers the
    methods read; `dids` answers `did_rows` and records the filter it was given."""

    def __init__(self) -> None:
        super().__init__(USERS)
        self.cli_numbers = {(10, "37052000201")}
        self.did_rows = [DidRow("37052000999", 0, 1), DidRow("37052000998", 2, 0)]
        self.did_filters: list[DidFilter] = []
        self.reads: dict[Callable[..., Any], Callable[..., Any]] = {
            devices_of_user: lambda user_id: [d for d in DEVICES if d.user_id == user_id],
            device_by_id: lambda device_id: next(
                (d for d in DEVICES if d.device_id == device_id), None),
            device_by_username: lambda name: next(
                (d for d in DEVICES if d.username == name), None),
            pin_in_use: lambda pin: any(d.pin == pin for d in DEVICES),
            balance: lambda user_id: Decimal("12.5") if user_id == 2 else Decimal(0),
            call_end_url: lambda user_id, device_id: "https://crm.example/end?a=1&b=2"
            if device_id == 10 else "",
            clis.cli_exists: lambda device_id, cli: (device_id, cli) in self.cli_numbers,
            phonebook.entries: lambda user_id: [e for e in ENTRIES if e.user_id == user_id],
            phonebook.entry: lambda entry_id: next(
                (e for e in ENTRIES if e.entry_id == entry_id), None),
            did_exists: lambda did: any(row.did == did for row in self.did_rows),
            provider_exists: lambda provider_id: provider_id == 1,
            dids: self._dids,
            permission_group: lambda name: None,
            user_by_id: self.user_by_id,
        }

    def _dids(self, where: DidFilter) -> list[DidRow]:
        self.did_filters.append(where)
        return self.did_rows

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.reads[read](*args, **kwargs)


class FakeAppender:
    def __init__(self) -> None:
        self.events: list[tuple[str, bytes, dict[str, Any]]] = []

    async def append(self, topic: str, key: bytes, value: bytes) -> None:
        self.events.append((topic, key, orjson.loads(value)))


class Api:
    def __init__(self) -> None:
        self.reader = FakeReader()
        self.appender = FakeAppender()
        app = create_app(Settings(api_secret=SECRET), reader=self.reader,  # type: ignore[arg-type]
                         appender=self.appender, clock=lambda: NOW)
        self.http = TestClient(app)

    def call(self, method: str, caller: str, hashed: tuple[str, ...],
             params: Mapping[str, str], headers: Mapping[str, str] | None = None) -> str:
        values = [params[name] for name in hashed if name in params]
        data = {"u": caller, **params, "hash": mor_hash(values, SECRET)}
        answer = self.http.post(f"/billing/api/{method}", data=data, headers=headers)
        assert answer.status_code == 200
        return answer.text


def page(body: str) -> str:
    return f"{HEAD}<page>\n{body}</page>\n"


def page_error(text: str) -> str:
    return page(f"  <error>{text}</error>\n")


# devices_get

DEVICES_GET = ("user_id",)
JOHNS_DEVICES = page(
    "  <devices>\n"
    "    <device>\n      <device_id>10</device_id>\n      <device_type>SIP</device_type>\n"
    "      <devicegroup_id></devicegroup_id>\n      <primary_device>0</primary_device>\n"
    "      <username>201</username>\n      <secret></secret>\n      <ipaddr></ipaddr>\n"
    "      <port></port>\n      <callerid></callerid>\n    </device>\n"
    "    <device>\n      <device_id>12</device_id>\n      <device_type>IAX2</device_type>\n"
    "      <devicegroup_id></devicegroup_id>\n      <primary_device>0</primary_device>\n"
    "      <username>john202</username>\n      <secret></secret>\n      <ipaddr></ipaddr>\n"
    "      <port></port>\n      <callerid>&quot;John&quot; &lt;202&gt;</callerid>\n"
    "    </device>\n"
    "  </devices>\n")


@pytest.mark.parametrize("caller", ["admin", "john", "accountant"])
@pytest.mark.parametrize("method", ["devices_get", "device_list"])
def test_devices_get_lists_a_users_devices(caller: str, method: str) -> None:
    assert Api().call(method, caller, DEVICES_GET, {"user_id": "2"}) == JOHNS_DEVICES


def test_devices_get_of_a_user_without_devices_and_show_hidden() -> None:
    answer = Api().call("devices_get", "reseller", DEVICES_GET,
                        {"user_id": "3", "show_hidden_devices": "1"})
    assert answer == page("  <devices></devices>\n")


def test_devices_get_is_gzipped_only_when_the_client_accepts_it() -> None:
    api = Api()
    data = {"u": "admin", "user_id": "2", "hash": mor_hash(["2"], SECRET)}
    zipped = api.http.post("/billing/api/devices_get", data=data,
                           headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.text == JOHNS_DEVICES  # the client decodes it
    plain = api.http.post("/billing/api/devices_get", data=data,
                          headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == JOHNS_DEVICES.encode()
    assert gzip.decompress(gzip.compress(plain.content)) == zipped.content


@pytest.mark.parametrize(("caller", "params", "text"), [
    ("admin", {}, "user_id is empty"),
    ("admin", {"user_id": ""}, "user_id is empty"),
    ("admin", {"user_id": "99"}, "User was not found"),
    ("admin", {"user_id": "x"}, "User was not found"),
    ("john", {"user_id": "4"}, "User was not found"),
    ("reseller", {"user_id": "2"}, "User was not found"),
    ("admin", {"user_id": "2", "show_hidden_devices": "2"},
     "Invalid parameter: show_hidden_devices"),
])
def test_devices_get_errors(caller: str, params: dict[str, str], text: str) -> None:
    assert Api().call("devices_get", caller, DEVICES_GET, params) == page_error(text)


def test_devices_get_wrong_hash_and_unknown_caller() -> None:
    http = Api().http
    answer = http.post("/billing/api/devices_get", data={"u": "admin", "user_id": "2",
                                                         "hash": "0" * 40})
    assert answer.text == page_error("Incorrect hash")
    answer = http.post("/billing/api/devices_get", data={"u": "nobody", "user_id": "2"})
    assert answer.text == page_error("Access Denied")


def test_reseller_sees_his_users_devices() -> None:
    answer = Api().call("devices_get", "reseller", DEVICES_GET, {"user_id": "4"})
    assert "<device_id>20</device_id>" in answer and answer.count("<device>") == 1


# device_details_get

DETAILS = ("device_id", "device_u")
JOHNS_DESK = page(
    "  <device>\n    <id>10</id>\n    <accountcode>10</accountcode>\n"
    "    <device_type>SIP</device_type>\n    <name>john-desk</name>\n"
    "    <extension>201</extension>\n    <description>john-desk</description>\n"
    "    <username>201</username>\n    <secret></secret>\n    <callerid></callerid>\n"
    "    <pin>1234</pin>\n    <devicegroup_id></devicegroup_id>\n    <user_id>2</user_id>\n"
    "    <balance>12.5</balance>\n"
    "    <webhook_url_for_call_end>https://crm.example/end?a=1&amp;b=2"
    "</webhook_url_for_call_end>\n"
    "  </device>\n")


@pytest.mark.parametrize("caller", ["admin", "accountant"])
@pytest.mark.parametrize("params", [{"device_id": "10"}, {"device_u": "201"}])
def test_device_details_get(caller: str, params: dict[str, str]) -> None:
    assert Api().call("device_details_get", caller, DETAILS, params) == JOHNS_DESK


@pytest.mark.parametrize(("caller", "params", "text"), [
    ("john", {"device_id": "10"}, "Access Denied"),  # never a simple user
    ("admin", {}, "Device was not found"),
    ("admin", {"device_id": "99"}, "Device was not found"),
    ("admin", {"device_id": "-1"}, "Device was not found"),
    ("admin", {"device_u": "nobody"}, "Device was not found"),
    ("reseller", {"device_id": "10"}, "Device was not found"),  # John is the admin's
])
def test_device_details_get_errors(caller: str, params: dict[str, str], text: str) -> None:
    assert Api().call("device_details_get", caller, DETAILS, params) == page_error(text)


def test_reseller_reads_his_users_device() -> None:
    answer = Api().call("device_details_get", "reseller", DETAILS, {"device_id": "20"})
    assert "<user_id>4</user_id>" in answer and "<pin>5555</pin>" in answer


# device_create

CREATE = ("user_id", "description", "pin", "type", "devicegroup_id", "caller_id")


def created_id(answer: str) -> int:
    head = f"{HEAD}<page>\n  <status>Device created</status>\n  <id>"
    assert answer.startswith(head) and answer.endswith("</id>\n</page>\n")
    return int(answer[len(head):-len("</id>\n</page>\n")])


@pytest.mark.parametrize("caller", ["admin", "reseller"])
def test_device_create_appends_the_device_created_event_rating_reads(caller: str) -> None:
    api = Api()
    owner = 2 if caller == "admin" else 4
    answer = api.call("device_create", caller, CREATE,
                      {"user_id": str(owner), "description": "Desk <2>", "pin": "4321",
                       "type": "pjsip", "caller_id": '"Desk" <203>'})
    device_id = created_id(answer)
    [(topic, key, event)] = api.appender.events
    assert (topic, key) == ("account-events", str(owner).encode())
    assert event == {"schema": "cdrflow.account-event/1", "type": "device_created",
                     "device_id": device_id, "user_id": owner, "device_type": "PJSIP",
                     "name": str(device_id), "extension": str(device_id),
                     "description": "Desk <2>", "username": str(device_id),
                     "callerid": '"Desk" <203>', "pin": "4321"}
    data = ReferenceData()
    data.apply(event)
    assert data.devices[device_id].user_id == owner
    assert parse_account_event(event) == data.devices[device_id]


def test_device_create_pin_absent_is_random_and_empty_is_none() -> None:
    api = Api()
    created_id(api.call("device_create", "admin", CREATE, {"user_id": "2", "type": "SIP"}))
    created_id(api.call("device_create", "admin", ("user_id", "pin", "type"),
                        {"user_id": "2", "pin": "", "type": "FAX"}))
    drawn, empty = (event["pin"] for _, _, event in api.appender.events)
    assert len(drawn) == 6 and drawn.isdigit() and drawn not in ("1234", "5555")
    assert empty == ""


@pytest.mark.parametrize(("caller", "params", "answer"), [
    ("admin", {"user_id": "2", "type": "Skype"}, page_error("Device_type_invalid")),
    ("admin", {"user_id": "2"}, page_error("Device_type_invalid")),
    ("admin", {"user_id": "2", "type": "SIP", "devicegroup_id": "3"},
     page_error("Device_group_invalid")),
    ("admin", {"user_id": "2", "type": "SIP", "pin": "1234"},
     page_error("Pin_is_already_used")),
    ("admin", {"user_id": "2", "type": "SIP", "pin": "12a4"},
     page_error("Pin_must_be_numeric")),
    ("admin", {"user_id": "2", "type": "SIP", "pin": "1" * 21},
     page_error("Invalid parameter: pin")),
    ("admin", {"user_id": "2", "type": "SIP", "description": "d" * 201},
     page("  <error>Device was not created</error>\n"
          "  <message>description is longer than 200 characters</message>\n")),
    ("admin", {"user_id": "2", "type": "SIP", "caller_id": "a\x01b"},
     page("  <error>Device was not created</error>\n  <message>caller_id must be 1 to 100 "
          "characters without control characters</message>\n")),
    ("admin", {"user_id": "99", "type": "SIP"}, page_error("User was not found")),
    ("admin", {"type": "SIP"}, page_error("User was not found")),
    ("reseller", {"user_id": "2", "type": "SIP"}, page_error("User was not found")),
    ("john", {"user_id": "2", "type": "SIP"},
     page_error("You are not authorized to use this functionality")),
    ("accountant", {"user_id": "2", "type": "SIP"},
     page_error("You are not authorized to use this functionality")),
])
def test_device_create_errors(caller: str, params: dict[str, str], answer: str) -> None:
    api = Api()
    assert api.call("device_create", caller, CREATE, params) == answer
    assert api.appender.events == []


# cli_add

CLI_ADD = ("device_id", "cli_number", "cli_description", "comment", "banned", "ivr_id")
CLI_CREATED = page("  <status>CLI successfully created</status>\n")


@pytest.mark.parametrize(("caller", "device_id", "owner"), [
    ("admin", "10", 2), ("john", "12", 2), ("reseller", "20", 4), ("ann", "20", 4)])
def test_cli_add_appends_cli_added(caller: str, device_id: str, owner: int) -> None:
    api = Api()
    answer = api.call("cli_add", caller, CLI_ADD,
                      {"device_id": device_id, "cli_number": " 37061111111 ",
                       "cli_description": "Mobile", "comment": "from API", "banned": "1",
                       "ivr_id": "0", "cli_domain": "example.com"})
    assert answer == CLI_CREATED
    [(topic, key, event)] = api.appender.events
    assert (topic, key) == ("account-events", str(owner).encode())
    assert event == {"schema": "cdrflow.account-event/1", "type": "cli_added",
                     "cli_id": event["cli_id"], "device_id": int(device_id),
                     "user_id": owner, "cli": "37061111111", "description": "Mobile",
                     "added_ms": int(NOW.timestamp() * 1000), "comment": "from API",
                     "banned": True}
    cli = parse_account_event(event)
    assert isinstance(cli, clis.Cli) and cli.banned and cli.comment == "from API"


@pytest.mark.parametrize(("caller", "params", "text"), [
    ("admin", {"device_id": "10", "cli_number": "37a"}, "CLI must be numeric"),
    ("admin", {"device_id": "10"}, "CLI must be numeric"),
    ("admin", {"device_id": "10", "cli_number": "37052000201"}, "CLI already exists"),
    ("admin", {"device_id": "10", "cli_number": "370", "ivr_id": "4"}, "IVR was not found"),
    ("admin", {"device_id": "99", "cli_number": "370"}, "Access Denied"),
    ("admin", {"cli_number": "370"}, "Access Denied"),
    ("john", {"device_id": "20", "cli_number": "370"}, "Access Denied"),
    ("reseller", {"device_id": "10", "cli_number": "370"}, "Access Denied"),
    ("accountant", {"device_id": "10", "cli_number": "370"}, "Access Denied"),
    ("admin", {"device_id": "10", "cli_number": "3" * 41}, "Invalid parameter: cli_number"),
    ("admin", {"device_id": "10", "cli_number": "370", "banned": "yes"},
     "Invalid parameter: banned"),
    ("admin", {"device_id": "10", "cli_number": "370", "cli_description": "d" * 201},
     "Invalid parameter: cli_description"),
])
def test_cli_add_errors(caller: str, params: dict[str, str], text: str) -> None:
    api = Api()
    assert api.call("cli_add", caller, CLI_ADD, params) == page_error(text)
    assert api.appender.events == []


def test_cli_domain_is_not_hashed() -> None:
    api = Api()
    data = {"u": "admin", "device_id": "10", "cli_number": "370", "cli_domain": "x",
            "hash": mor_hash(["10", "370"], SECRET)}
    assert api.http.post("/billing/api/cli_add", data=data).text == CLI_CREATED
