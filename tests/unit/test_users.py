"""user_details_get, user_details_update and users_get (api/users.py) over an in-memory
reader and appender: golden documents for each answer and each documented error, as
each role."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson
import pytest

from api.app import create_app
from api.hash import mor_hash
from api.users import DETAILS_HASHED, UPDATE_HASHED
from cdrflow.passwords import password_matches
from cdrflow.settings import Settings
from projections import tariff_rates
from projections.accounts import account_by_id, accounts
from projections.balance import balance, balances
from projections.personal_details import personal_details
from projections.queries import User, user_by_id
from rating.reference import Account, parse_account_event
from streams.personal_details_events import PersonalDetails
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
ACCOUNTS = {
    0: Account(0, "admin", "System", "Admin", "admin", 0, "USD", 1, "UTC"),
    2: Account(2, "john", "John", "Smith", "user", 0, "USD", 1, "UTC", Decimal("18"),
               "prepaid", Decimal("50"), password_hash="scrypt$old"),
    5: Account(5, "res", "Res", "Eller", "reseller", 0, "EUR", 1, "UTC"),
    6: Account(6, "bob", "Bob", "<B&B>", "user", 5, "EUR", 1, "UTC"),
    7: Account(7, "acc", "", "", "accountant", 0, "USD", 1, "UTC"),
}
USERS = {i: User(a.user_id, a.username, a.first_name, a.last_name, a.role, a.owner_id,
                 a.currency, a.timezone, a.tax_percent, a.account_type, a.credit_limit,
                 a.language) for i, a in ACCOUNTS.items()}
BALANCES = {0: Decimal(0), 2: Decimal("12.34565"), 5: Decimal("-0.00001"), 6: Decimal("7"),
            7: Decimal(0)}
DETAILS = {2: PersonalDetails(2, personal_id="AB 1", agreement_number="A-7",
                              agreement_date="2008-03-11", taxation_country="Lithuania",
                              reg_city="Vilnius", reg_email="john@example.com")}


class Reader(UsersReader):
    def __init__(self) -> None:
        super().__init__(USERS)
        self.answers: dict[Callable[..., Any], Callable[..., Any]] = {
            user_by_id: USERS.get,
            personal_details: lambda i: DETAILS.get(i, PersonalDetails(i)),
            balance: BALANCES.__getitem__,
            balances: lambda ids: {i: BALANCES[i] for i in ids},
            account_by_id: ACCOUNTS.get,
            accounts: lambda owner: [a for i, a in sorted(ACCOUNTS.items())
                                     if owner is None or owner in (i, a.owner_id)],
            tariff_rates.exchange_rates: lambda at: {"USD": Decimal(1), "EUR": Decimal("0.9")},
            tariff_rates.tariff_in_force: lambda tariff_id, at: object()
            if tariff_id in (1, 3) else None,
        }

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.answers[read](*args)


class Appender:
    def __init__(self) -> None:
        self.events: list[tuple[str, bytes, dict[str, Any]]] = []

    async def append(self, topic: str, key: bytes, value: bytes) -> None:
        self.events.append((topic, key, orjson.loads(value)))


def ask(method: str, caller: str, hashed: tuple[str, ...] = (), appender: Appender | None = None,
        **params: str) -> str:
    app = create_app(Settings(api_secret=SECRET), reader=Reader(),  # type: ignore[arg-type]
                     appender=appender or Appender())
    values = [params[name] for name in hashed if name in params]
    with TestClient(app) as client:
        return client.post(f"/billing/api/{method}", data={
            "u": caller, **params, "hash": mor_hash(values, SECRET)}).text


def page_error(text: str) -> str:
    return f"{HEAD}<page>\n  <error>{text}</error>\n</page>\n"


# -- user_details_get ---------------------------------------------------------------------

JOHN = f"""{HEAD}<page>
  <pagename>Personal_details</pagename>
  <language>en</language>
  <userid>2</userid>
  <details>
    <main_detail>
      <account>Prepaid</account>
      <balance>12.3457 USD</balance>
      <balance_number>12.3457</balance_number>
      <balance_currency>USD</balance_currency>
      <credit>50.0000</credit>
    </main_detail>
    <other_details>
      <username>john</username>
      <first_name>John</first_name>
      <surname>Smith</surname>
      <personalid>AB 1</personalid>
      <agreement_number>A-7</agreement_number>
      <agreement_date>2008-03-11</agreement_date>
      <taxation_country>Lithuania</taxation_country>
      <vat_reg_number></vat_reg_number>
      <vat_percent>18.0</vat_percent>
    </other_details>
    <registration>
      <reg_address></reg_address>
      <reg_postcode></reg_postcode>
      <reg_city>Vilnius</reg_city>
      <reg_country></reg_country>
      <reg_state></reg_state>
      <reg_direction></reg_direction>
      <reg_phone></reg_phone>
      <reg_mobile></reg_mobile>
      <reg_fax></reg_fax>
      <reg_email>john@example.com</reg_email>
    </registration>
  </details>
</page>
"""

BOB = f"""{HEAD}<page>
  <pagename>Personal_details</pagename>
  <language>en</language>
  <userid>6</userid>
  <details>
    <main_detail>
      <account>Postpaid</account>
      <balance>7.0000 EUR</balance>
      <balance_number>7.0000</balance_number>
      <balance_currency>EUR</balance_currency>
      <credit>Unlimited</credit>
    </main_detail>
    <other_details>
      <username>bob</username>
      <first_name>Bob</first_name>
      <surname>&lt;B&amp;B&gt;</surname>
      <personalid></personalid>
      <agreement_number></agreement_number>
      <agreement_date></agreement_date>
      <taxation_country></taxation_country>
      <vat_reg_number></vat_reg_number>
      <vat_percent>0.0</vat_percent>
    </other_details>
    <registration>
{"".join(f"      <{name}></{name}>{chr(10)}" for name in (
    "reg_address", "reg_postcode", "reg_city", "reg_country", "reg_state", "reg_direction",
    "reg_phone", "reg_mobile", "reg_fax", "reg_email"))}    </registration>
  </details>
</page>
"""


@pytest.mark.parametrize("method", ["user_details_get", "user_details"])
@pytest.mark.parametrize("caller", ["admin", "acc", "john"])
def test_details_of_john(method: str, caller: str) -> None:
    assert ask(method, caller, DETAILS_HASHED, user_id="2") == JOHN


@pytest.mark.parametrize("params", [{"username": "bob"}, {"user_id": "6", "username": "bob"}])
@pytest.mark.parametrize("caller", ["admin", "res", "bob"])
def test_details_by_username_or_both(params: dict[str, str], caller: str) -> None:
    assert ask("user_details_get", caller, DETAILS_HASHED, **params) == BOB


def test_a_balance_that_rounds_to_zero_is_not_negative() -> None:
    answer = ask("user_details_get", "admin", DETAILS_HASHED, user_id="5")
    assert "<balance>0.0000 EUR</balance>" in answer
    assert "<balance_number>0.0000</balance_number>" in answer


@pytest.mark.parametrize(("caller", "params"), [
    ("admin", {"user_id": "77"}),  # unknown
    ("admin", {"username": "nobody"}),
    ("admin", {}),  # neither
    ("admin", {"user_id": "2", "username": "bob"}),  # two different users
    ("admin", {"user_id": "x"}),
    ("res", {"user_id": "2"}),  # not his
    ("john", {"user_id": "6"}),  # not himself
    ("bob", {"username": "john"}),
])
def test_details_user_not_found(caller: str, params: dict[str, str]) -> None:
    assert ask("user_details_get", caller, DETAILS_HASHED, **params) == page_error(
        "User was not found")


def test_details_incorrect_hash() -> None:
    app = create_app(Settings(api_secret=SECRET), reader=Reader())  # type: ignore[arg-type]
    with TestClient(app) as client:
        answer = client.post("/billing/api/user_details_get",
                             data={"u": "admin", "user_id": "2", "hash": "0" * 40})
    assert answer.text == page_error("Incorrect hash")


# -- user_details_update ------------------------------------------------------------------

UPDATED = f"{HEAD}<page>\n  <status>User was updated</status>\n</page>\n"


def update(caller: str, appender: Appender | None = None, **params: str) -> str:
    return ask("user_details_update", caller, UPDATE_HASHED, appender, **params)


def test_update_appends_the_whole_account_and_the_personal_details() -> None:
    appender = Appender()
    assert update("admin", appender, user_id="2", u23="Johnny", u5="3", u4="eur", u25="1",
                  credit="-1", tax1_value="21.5", u0="LT123", u14="Latvia", reg_city="Riga",
                  reg_email="", ay="2020", am="2", ad="29", u15="0", u32="0.0",
                  u33="") == UPDATED
    (topic1, key1, user), (topic2, key2, details) = appender.events
    assert (topic1, key1, topic2, key2) == ("account-events", b"2", "account-events", b"2")
    assert user == {
        "schema": "cdrflow.account-event/1", "type": "user_updated", "user_id": 2,
        "username": "john", "first_name": "Johnny", "last_name": "Smith", "role": "user",
        "owner_id": 0, "currency": "EUR", "tariff_id": 3, "timezone": "UTC",
        "tax_percent": "21.5", "account_type": "postpaid", "credit_limit": "-1",
        "language": "en", "api_group": "", "password_hash": "scrypt$old"}
    assert parse_account_event(user) == replace(
        ACCOUNTS[2], first_name="Johnny", currency="EUR", tariff_id=3,
        tax_percent=Decimal("21.5"), account_type="postpaid", credit_limit=Decimal(-1))
    assert details == {
        "schema": "cdrflow.account-event/1", "type": "personal_details_updated", "user_id": 2,
        "personal_id": "AB 1", "agreement_number": "A-7", "agreement_date": "2020-02-29",
        "taxation_country": "Latvia", "vat_reg_number": "LT123", "reg_address": "",
        "reg_postcode": "", "reg_city": "Riga", "reg_country": "", "reg_state": "",
        "reg_direction": "", "reg_phone": "", "reg_mobile": "", "reg_fax": "",
        "reg_email": ""}


def test_update_of_the_account_alone_and_a_password() -> None:
    appender = Appender()
    assert ask("user_update_api", "res", UPDATE_HASHED, appender, user_id="6", pswd="n3w",
               u9="bobby", u8="lt", u13="user") == UPDATED
    ((_, _, user),) = appender.events
    assert (user["username"], user["language"], user["role"]) == ("bobby", "lt", "user")
    assert password_matches("n3w", user["password_hash"])


def test_admin_changes_a_role_and_an_accountant_changes_a_user() -> None:
    appender = Appender()
    assert update("admin", appender, user_id="6", u13="reseller") == UPDATED
    assert update("acc", appender, user_id="6", u17="Builder") == UPDATED
    assert [e["role"] for _, _, e in appender.events] == ["reseller", "user"]
    assert appender.events[1][2]["last_name"] == "Builder"


def test_nothing_to_change_appends_nothing() -> None:
    appender = Appender()
    assert update("admin", appender, user_id="2", u1="", unknown="x") == UPDATED
    assert appender.events == []


@pytest.mark.parametrize(("caller", "params", "error"), [
    ("admin", {"user_id": "77"}, "User was not found"),
    ("admin", {}, "User was not found"),
    ("res", {"user_id": "2", "u23": "X"}, "User was not found"),  # not his user
    ("res", {"user_id": "5", "credit": "100"}, "You have no editing permission"),  # himself
    ("acc", {"user_id": "0", "u23": "X"}, "You have no editing permission"),  # the admin
    ("res", {"user_id": "6", "u13": "reseller"}, "You have no editing permission"),
    ("admin", {"user_id": "0", "u13": "user"}, "You have no editing permission"),
    ("admin", {"user_id": "2", "u5": "9"}, "Tariff not found"),
    ("admin", {"user_id": "2", "u9": "bob"}, "Such username is already taken"),
    ("admin", {"user_id": "2", "u13": "admin"}, "Invalid parameter: u13"),
    ("admin", {"user_id": "2", "u4": "XYZ"}, "Invalid parameter: u4"),
    ("admin", {"user_id": "2", "u25": "2"}, "Invalid parameter: u25"),
    ("admin", {"user_id": "2", "credit": "-2"}, "Invalid parameter: credit"),
    ("admin", {"user_id": "2", "credit": "0.0000001"}, "Invalid parameter: credit"),
    ("admin", {"user_id": "2", "tax1_value": "101"}, "Invalid parameter: tax1_value"),
    ("admin", {"user_id": "2", "u15": "1"}, "Invalid parameter: u15"),  # blocking: not modelled
    ("admin", {"user_id": "2", "u1": "3"}, "Invalid parameter: u1"),  # no LCRs
    ("admin", {"user_id": "2", "ay": "2021", "am": "2", "ad": "29"}, "Invalid parameter: ay"),
    ("admin", {"user_id": "2", "ay": "2021", "am": "2"}, "Invalid parameter: ad"),
    ("admin", {"user_id": "2", "u23": "x" * 256}, "Invalid parameter: u23"),
    ("admin", {"user_id": "2", "u8": "l t"}, "Invalid parameter: u8"),
])
def test_update_errors_change_nothing(caller: str, params: dict[str, str], error: str) -> None:
    appender = Appender()
    assert update(caller, appender, **params) == page_error(error)
    assert appender.events == []


def test_a_user_may_not_update() -> None:
    assert update("john", user_id="2", u23="X") == page_error(
        "You are not authorized to use this functionality")


def test_update_incorrect_hash_counts_the_sent_fields() -> None:
    app = create_app(Settings(api_secret=SECRET), reader=Reader(),  # type: ignore[arg-type]
                     appender=Appender())
    with TestClient(app) as client:
        answer = client.post("/billing/api/user_details_update", data={
            "u": "admin", "user_id": "2", "u23": "X", "hash": mor_hash(["2"], SECRET)})
    assert answer.text == page_error("Incorrect hash")


# -- users_get ----------------------------------------------------------------------------


def user_node(account: Account, amount: str) -> str:
    last = account.last_name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (f"      <user>\n        <id>{account.user_id}</id>\n"
            f"        <username>{account.username}</username>\n"
            f"        <first_name>{account.first_name}</first_name>\n"
            f"        <last_name>{last}</last_name>\n"
            f"        <balance>{amount}</balance>\n        <blocked>0</blocked>\n"
            f"        <lcr_id></lcr_id>\n        <tariff_id>{account.tariff_id}</tariff_id>\n"
            f"        <owner_id>{account.owner_id}</owner_id>\n"
            f"        <usertype>{account.role}</usertype>\n        <hidden>0</hidden>\n"
            "      </user>\n")


AMOUNTS = {0: "0.0000", 2: "12.3457", 5: "0.0000", 6: "7.0000", 7: "0.0000"}


def users_page(*ids: int) -> str:
    listed = "".join(user_node(ACCOUNTS[i], AMOUNTS[i]) for i in ids)
    return f"{HEAD}<page>\n  <status>\n    <users>\n{listed}    </users>\n  </status>\n</page>\n"


@pytest.mark.parametrize("caller", ["admin", "acc"])
def test_users_get_lists_everyone(caller: str) -> None:
    assert ask("users_get", caller) == users_page(0, 2, 5, 6, 7)


def test_users_get_a_reseller_lists_himself_and_his_users() -> None:
    assert ask("users_get", "res") == users_page(5, 6)


def test_users_get_accepts_the_hash_of_u_and_p() -> None:
    app = create_app(Settings(api_secret=SECRET), reader=Reader())  # type: ignore[arg-type]
    with TestClient(app) as client:
        for data in ({"u": "res", "hash": mor_hash(["res"], SECRET)},
                     {"u": "res", "p": "pw", "hash": mor_hash(["res", "pw"], SECRET)}):
            assert client.post("/billing/api/users_get", data=data).text == users_page(5, 6)


PAGE_STATUS = f"{HEAD}<page>\n  <status>\n    <error>{{}}</error>\n  </status>\n</page>\n"


@pytest.mark.parametrize(("data", "settings", "error"), [
    ({"u": "john", "hash": mor_hash([], SECRET)}, {}, "Access Denied"),  # a simple user
    ({"u": "nobody", "hash": mor_hash([], SECRET)}, {}, "Access Denied"),
    ({"u": "admin", "hash": "0" * 40}, {}, "Incorrect hash"),
    ({"u": "admin", "hash": mor_hash([], SECRET)}, {"allow_api": False},
     "API Requests are disabled"),
])
def test_users_get_errors(data: dict[str, str], settings: dict[str, Any], error: str) -> None:
    app = create_app(Settings(api_secret=SECRET).with_(**settings),
                     reader=Reader())  # type: ignore[arg-type]
    with TestClient(app) as client:
        assert client.post("/billing/api/users_get", data=data).text == PAGE_STATUS.format(error)
        assert client.get("/billing/api/users_get", params=data).text == PAGE_STATUS.format(
            "GET Requests are disabled")
