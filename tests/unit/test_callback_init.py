"""callback_init over an in-memory reader and appender: the legacy `<Status>` answers as
each role, the callback request event it appends, and the shared rules' answers."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections.devices import Device, device_by_id
from projections.queries import User, user_by_id
from streams.topics import CALLBACK_REQUESTS
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
ADMIN = User(0, "admin", "", "", "admin", 0, "USD", "UTC")
JOHN = User(2, "john", "John", "Smith", "user", 0, "USD", "UTC")
ANN = User(3, "ann", "Ann", "Jones", "user", 5, "USD", "UTC")
RESELLER = User(5, "res", "", "", "reseller", 0, "USD", "UTC")
ACCOUNTANT = User(7, "acc", "", "", "accountant", 0, "USD", "UTC")
LIMITED = User(9, "limited", "", "", "user", 0, "USD", "UTC", api_group="none")
USERS = {u.user_id: u for u in (ADMIN, JOHN, ANN, RESELLER, ACCOUNTANT, LIMITED)}
DEVICES = {10: Device(10, 2, "SIP", "john-desk", "201"),
           11: Device(11, 3, "SIP", "ann-desk", "301"),
           12: Device(12, 9, "SIP", "limited-desk", "901")}


class Reader(UsersReader):
    def query(self, read: Callable[..., Any], *args: Any) -> Any:
        answers: dict[Callable[..., Any], Callable[..., Any]] = {
            user_by_id: self.user_by_id, device_by_id: DEVICES.get}
        return answers[read](*args)


class Appender:
    def __init__(self) -> None:
        self.appended: list[tuple[str, bytes, dict[str, Any]]] = []

    async def append(self, topic: str, key: bytes, value: bytes) -> None:
        self.appended.append((topic, key, orjson.loads(value)))


def call(u: str | None, device: str | None, src: str | None, dst: str | None = "37061234567",
         *, method: str = "callback_init", hash_: str | None = None,
         appender: Appender | None = None, settings: dict[str, Any] | None = None,
         **params: str) -> str:
    hashed = {"device": device, "dst": dst, "src": src}
    sent = {k: v for k, v in hashed.items() if v is not None}
    data = {**({"u": u} if u is not None else {}), **sent, **params,
            "hash": hash_ or mor_hash(sent.values(), SECRET)}
    app = create_app(Settings(api_secret=SECRET).with_(**(settings or {})),
                     reader=Reader(USERS),  # type: ignore[arg-type]
                     appender=appender or Appender(), clock=lambda: NOW)
    answer = TestClient(app).post(f"/billing/api/{method}", data=data)
    assert answer.status_code == 200
    return answer.text


def status(text: str) -> str:
    return f"{HEAD}<Status>{text}</Status>\n"


@pytest.mark.parametrize("method", ["callback_init", "callback"])
def test_ok_appends_a_callback_request(method: str) -> None:
    appender = Appender()
    assert call("john", "10", "37052000201", method=method, appender=appender) == status("Ok")
    [(topic, key, event)] = appender.appended
    assert (topic, key) == (CALLBACK_REQUESTS, b"2")
    request_id = event.pop("request_id")
    assert isinstance(request_id, int) and 0 < request_id < 2**53
    assert event == {
        "schema": "cdrflow.callback-request/1", "user_id": 2, "device_id": 10,
        "src": "37052000201", "dst": "37061234567", "requested_by": 2,
        "requested_ms": 1_795_953_600_000, "uniqueid": f"1795953600.{request_id}"}


def test_uniqueid_answered_on_request_and_every_option_carried() -> None:
    appender = Appender()
    answer = call("admin", "11", "+37052000201", None, appender=appender, callback_uniqueid="1",
                  cli_lega="Office <201>", cli_legb="37052000201", card_pin="1234",
                  lega_tariff_id="3", lega_reseller_tariff_id="4", lega_lcr_id="5",
                  server_id="1")
    [(_, key, event)] = appender.appended
    assert answer == f'{HEAD}<Status uniqueid="{event["uniqueid"]}">Ok</Status>\n'
    assert key == b"3"
    assert {k: v for k, v in event.items() if k not in ("request_id", "uniqueid")} == {
        "schema": "cdrflow.callback-request/1", "user_id": 3, "device_id": 11,
        "src": "+37052000201", "dst": "", "requested_by": 0,
        "requested_ms": 1_795_953_600_000, "cli_lega": "Office <201>",
        "cli_legb": "37052000201", "card_pin": "1234", "lega_tariff_id": 3,
        "lega_reseller_tariff_id": 4, "lega_lcr_id": 5, "server_id": 1}
    assert call("john", "10", "1", callback_uniqueid="0") == status("Ok")


def test_device_as_each_role() -> None:
    assert call("res", "11", "1") == status("Ok")  # his user's device
    assert call("limited", "12", "1") == status("Ok")  # permission groups do not apply
    for u, device in [("john", "11"), ("ann", "10"), ("res", "10"), ("acc", "10"),
                      ("admin", "999"), ("admin", "abc"), ("admin", ""), ("admin", None),
                      ("admin", "1" * 19)]:
        assert call(u, device, "1") == status("Bad device"), (u, device)


def test_not_authenticated_and_no_source() -> None:
    appender = Appender()
    assert call("nobody", "10", "1", appender=appender) == status("Not authenticated")
    assert call(None, "10", "1", appender=appender) == status("Not authenticated")
    assert call("john", "10", "1", hash_="0" * 40, appender=appender) == status(
        "Not authenticated")
    assert call("john", "10", "1", hash_="0" * 40, settings={"disable_hash_check": True},
                appender=appender) == status("Ok")
    assert len(appender.appended) == 1
    for src in (None, "", "abc", "1" * 41):
        assert call("john", "10", src) == status("No source")
    assert call("john", "11", None) == status("Bad device")  # the device is checked first


@pytest.mark.parametrize(("name", "value"), [
    ("dst", "x1"), ("cli_lega", "a" * 81), ("cli_legb", "a\x01"), ("card_pin", "12a"),
    ("lega_tariff_id", "-1"), ("lega_reseller_tariff_id", "x"), ("lega_lcr_id", "1.5"),
    ("server_id", str(2**64)), ("callback_uniqueid", "yes"),
])
def test_invalid_parameters(name: str, value: str) -> None:
    appender = Appender()
    if name == "dst":
        answer = call("john", "10", "1", value, appender=appender)
    else:
        answer = call("john", "10", "1", appender=appender, **{name: value})
    assert answer == status(f"Invalid parameter: {name}")
    assert appender.appended == []


def test_shared_rules_before_the_caller_answer_bare() -> None:
    assert call("john", "10", "1", settings={"allow_api": False}) == (
        f"{HEAD}<error>API Requests are disabled</error>\n")
    app = create_app(Settings(api_secret=SECRET), reader=Reader(USERS),  # type: ignore[arg-type]
                     appender=Appender(), clock=lambda: NOW)
    assert TestClient(app).get("/billing/api/callback", params={"u": "john"}).text == (
        f"{HEAD}<error>GET Requests are disabled</error>\n")
