"""user_balance_get and the balance by device credentials (api/balance.py) over an
in-memory reader: golden documents for each answer and each documented error."""

from __future__ import annotations

import warnings
from decimal import Decimal
from typing import Any

import pytest

from api.app import create_app
from api.balance import HASHED, four
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections import tariff_rates
from projections.accounts import device_user_id
from tests.unit.test_users import Reader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
DEVICES = {"201": 2, "bob-phone": 6}


def client(**settings: Any) -> TestClient:
    reader = Reader()
    reader.answers[device_user_id] = DEVICES.get
    return TestClient(create_app(Settings(api_secret=SECRET, api_balance=True).with_(**settings),
                                 reader=reader))  # type: ignore[arg-type]


def ask(caller: str, method: str = "user_balance_get", **params: str) -> str:
    values = [params[name] for name in HASHED if name in params]
    return client().post(f"/billing/api/{method}", data={
        "u": caller, **params, "hash": mor_hash(values, SECRET)}).text


def balance_page(amount: str, currency: str | None = None) -> str:
    shown = f"  <currency>{currency}</currency>\n" if currency else ""
    return f"{HEAD}<page>\n  <balance>{amount}</balance>\n{shown}</page>\n"


def page_error(text: str) -> str:
    return f"{HEAD}<page>\n  <error>{text}</error>\n</page>\n"


def test_four_decimals() -> None:
    assert [four(Decimal(v)) for v in ("0", "12.5", "-0.00004", "-1.23455", "1E+2")] == [
        "0.0000", "12.5000", "0.0000", "-1.2346", "100.0000"]


@pytest.mark.parametrize("method", ["user_balance_get", "balance"])
@pytest.mark.parametrize("caller", ["admin", "acc", "john"])
def test_john_in_the_system_currency(method: str, caller: str) -> None:
    assert ask(caller, method, username="john") == balance_page("12.3457")


@pytest.mark.parametrize(("params", "expected"), [
    ({}, balance_page("7.7778")),  # 7 EUR in USD (EUR rate 0.9)
    ({"currency": "USER"}, balance_page("7.0000")),
    ({"currency": "eur"}, balance_page("7.0000")),
    ({"currency": "USD"}, balance_page("7.7778")),
    ({"currency": "GBP"}, balance_page("7.7778")),  # unknown: the system currency
    ({"user_currency": "1", "currency": "USD"}, balance_page("7.0000", "EUR")),
    ({"user_currency": "0"}, balance_page("7.7778")),
])
@pytest.mark.parametrize("caller", ["admin", "res", "bob"])
def test_currency_choices(params: dict[str, str], expected: str, caller: str) -> None:
    assert ask(caller, username="bob", **params) == expected


@pytest.mark.parametrize(("caller", "params", "error"), [
    ("admin", {"username": "nobody"}, "User was not found"),
    ("admin", {}, "User was not found"),
    ("res", {"username": "john"}, "User was not found"),
    ("john", {"username": "bob"}, "User was not found"),
    ("admin", {"username": "john", "user_currency": "x"}, "Invalid parameter: user_currency"),
])
def test_balance_errors(caller: str, params: dict[str, str], error: str) -> None:
    assert ask(caller, **params) == page_error(error)


def test_balance_incorrect_hash_and_feature_disabled() -> None:
    data = {"u": "admin", "username": "john"}
    assert client().post("/billing/api/user_balance_get", data={**data, "hash": "0" * 40}
                         ).text == page_error("Incorrect hash")
    assert client(api_balance=False).post("/billing/api/user_balance_get", data={
        **data, "hash": mor_hash(["john"], SECRET)}).text == page_error("Feature disabled")


def test_a_currency_without_rate_cannot_be_shown() -> None:
    reader = Reader()
    reader.answers[tariff_rates.exchange_rates] = lambda at: {"USD": Decimal(1)}
    app = create_app(Settings(api_secret=SECRET, api_balance=True),
                     reader=reader)  # type: ignore[arg-type]
    answer = TestClient(app).post("/billing/api/user_balance_get", data={
        "u": "admin", "username": "bob", "hash": mor_hash(["bob"], SECRET)})
    assert answer.text == page_error("Invalid parameter: currency")


# -- by device credentials ----------------------------------------------------------------


@pytest.mark.parametrize(("path", "expected"), [
    ("user_balance_get_by_username/201", balance_page("12.3457")),
    ("user_balance_get_by_username/bob-phone", balance_page("7.7778")),
    ("user_balance_get_by_username/bob-phone?currency=USER", balance_page("7.0000")),
    ("user_balance_get_by_username/nobody", page_error("User was not found")),
    ("user_balance_get_by_psw/secret", page_error("User was not found")),
])
def test_by_device_credentials_without_caller_or_hash(path: str, expected: str) -> None:
    assert client().post(f"/billing/api/{path}").text == expected


@pytest.mark.parametrize("method", ["user_balance_get_by_username", "user_balance_get_by_psw"])
@pytest.mark.parametrize(("settings", "error"), [
    ({"api_balance": False}, "Feature disabled"),
    ({"allow_api": False}, "API Requests are disabled"),
    ({"api_ip_restrict": True}, "Access Denied"),
])
def test_by_device_credentials_gates(method: str, settings: dict[str, Any], error: str) -> None:
    assert client(**settings).post(f"/billing/api/{method}/201").text == page_error(error)


def test_by_device_credentials_get_is_refused_unless_allowed() -> None:
    path = "/billing/api/user_balance_get_by_username/201"
    assert client().get(path).text == page_error("GET Requests are disabled")
    assert client(allow_get_api=True).get(path).text == balance_page("12.3457")
