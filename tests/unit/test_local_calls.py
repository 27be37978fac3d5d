"""local_calls_get over an in-memory reader: the MOR tags (misspelt `orignator_*`), the
shown user's time zone, whose calls a role may list, the hash order and the
`<page><status><error>` envelope."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections.aggregates import LocalCall, local_calls
from projections.callflow import devices_by_ids
from tests.unit.fakes import UsersReader
from tests.unit.test_aggregate import DEVICES, NOW, USERS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
URL = "/billing/api/local_calls_get"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
CALLS = [
    LocalCall(datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "l-1", 5, 10, "201", "SIP/201-0001",
              6, 11),
    LocalCall(datetime(2026, 11, 20, 11, 0, tzinfo=UTC), "l-2", 6, 11, "Carol <301>",
              "IAX2/301-0002", 5, 0),  # through Bob's DID
]


class FakeReader(UsersReader):
    def __init__(self) -> None:
        super().__init__(USERS)
        self.asked: list[tuple[Any, ...]] = []

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if read is local_calls:
            self.asked.append(args)
            return CALLS
        if read is devices_by_ids:
            return {i: DEVICES[i] for i in args[0] if i in DEVICES}
        raise AssertionError(read)


def ask(params: dict[str, str], reader: FakeReader | None = None) -> str:
    app = create_app(Settings(api_secret=SECRET), reader=reader or FakeReader(),
                     clock=lambda: NOW)
    values = [params[name] for name in ("from", "till", "s_user") if name in params]
    with TestClient(app) as client:
        return client.post(URL, data={**params, "hash": mor_hash(values, SECRET)}).text


def error(text: str) -> str:
    return f"{HEAD}<page>\n  <status>\n    <error>{text}</error>\n  </status>\n</page>\n"


def call(date: str, zone: str, device: str, caller_id: str, channel: str, user: str,
         terminator: str) -> str:
    return ("    <call>\n      <calldate>\n"
            f"        <date>{date}</date>\n        <timezone>{zone}</timezone>\n"
            "      </calldate>\n"
            f"      <orignator_device>{device}</orignator_device>\n"
            f"      <orignator_caller_id>{caller_id}</orignator_caller_id>\n"
            "      <orignator_ip></orignator_ip>\n"
            f"      <orignator_channel>{channel}</orignator_channel>\n"
            f"      <terminator_user>{user}</terminator_user>\n"
            f"      <terminator_device>{terminator}</terminator_device>\n"
            "      <terminator_ip></terminator_ip>\n    </call>\n")


def test_admin_lists_a_users_local_calls_in_that_users_zone() -> None:
    reader = FakeReader()
    assert ask({"u": "admin", "from": "1795132800", "till": "1795219199", "s_user": "5"},
               reader) == (
        f"{HEAD}<page>\n  <local_calls>\n"
        + call("2026-11-20 10:00:00", "UTC", "SIP/201", "201", "SIP/201-0001", "carol",
               "IAX2/301")
        + call("2026-11-20 11:00:00", "UTC", "IAX2/301", "Carol &lt;301&gt;",
               "IAX2/301-0002", "Bob Smith", "")
        + "  </local_calls>\n</page>\n")
    assert reader.asked == [(5, 1795132800, 1795219199)]


@pytest.mark.parametrize(("u", "s_user", "asked"), [
    ("res", None, (2, 1795212000, 1795298399)),  # the caller himself, today in Vilnius
    ("res", "5", (5, 1795132800, 1795219199)),
    ("acc", "6", (6, 1795132800, 1795219199)),
    ("bob", None, (5, 1795132800, 1795219199)),
    ("bob", "5", (5, 1795132800, 1795219199)),
])
def test_whose_calls(u: str, s_user: str | None, asked: tuple[int, int, int]) -> None:
    reader = FakeReader()
    answer = ask({"u": u} if s_user is None else {"u": u, "s_user": s_user}, reader)
    assert answer.startswith(f"{HEAD}<page>\n  <local_calls>\n    <call>\n")
    assert reader.asked == [asked]


def test_the_reseller_sees_dates_in_his_zone() -> None:
    assert "<date>2026-11-20 12:00:00</date>\n        <timezone>Europe/Vilnius</timezone>" \
        in ask({"u": "res"})


@pytest.mark.parametrize(("u", "params", "text"), [
    ("admin", {"s_user": "99"}, "User was not found"),
    ("admin", {"s_user": "x"}, "User was not found"),
    ("res", {"s_user": "6"}, "User was not found"),
    ("bob", {"s_user": "6"}, "User was not found"),
    ("admin", {"from": "today"}, "Invalid parameter: from"),
    ("admin", {"till": "1" * 13}, "Invalid parameter: till"),
])
def test_errors(u: str, params: dict[str, str], text: str) -> None:
    reader = FakeReader()
    assert ask({"u": u, **params}, reader) == error(text)
    assert reader.asked == []


def test_hash_covers_from_till_s_user_in_that_order() -> None:
    app = create_app(Settings(api_secret=SECRET), reader=FakeReader(), clock=lambda: NOW)
    params = {"u": "admin", "from": "1", "till": "2", "s_user": "5"}
    with TestClient(app) as client:
        good = client.post(URL, data={**params, "hash": mor_hash(["1", "2", "5"], SECRET)})
        bad = client.post(URL, data={**params, "hash": mor_hash(["5", "1", "2"], SECRET)})
    assert good.text.startswith(f"{HEAD}<page>\n  <local_calls>")
    assert bad.text == error("Incorrect hash")


def test_no_local_calls_is_an_empty_list() -> None:
    class Empty(FakeReader):
        def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            return [] if read is local_calls else super().query(read, *args, **kwargs)

    assert ask({"u": "bob"}, Empty()) == f"{HEAD}<page>\n  <local_calls></local_calls>\n</page>\n"
