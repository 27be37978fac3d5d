"""user_balance_update, payments_get and payment_create over an in-memory reader and
appender: whole answers (golden XML) for each role, each documented error, and the
events appended."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from api import payment_methods
from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections.balance import balance
from projections.payments import PaymentFilter, payment_list
from projections.queries import User, user_by_id
from streams.account_events import parse_account_event
from streams.payment_events import Payment
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
NOW_MS = 1_795_946_400_000
ADMIN = User(0, "admin", "System", "Admin", "admin", 0, "USD", "UTC")
JOHN = User(2, "john", "John", "Smith", "user", 0, "USD", "Europe/Vilnius",
            tax_percent=Decimal(21))
ANN = User(3, "ann", "Ann", "Jones", "user", 0, "USD", "UTC")
RESELLER = User(5, "res", "Reseller", "One", "reseller", 0, "USD", "UTC")
BOB = User(6, "bob", "Bob", "Brown", "user", 5, "EUR", "UTC", tax_percent=Decimal(15))
ACCOUNTANT = User(7, "acc", "Acc", "Ount", "accountant", 0, "USD", "UTC")
USERS = {u.user_id: u for u in (ADMIN, JOHN, ANN, RESELLER, BOB, ACCOUNTANT)}
P1 = Payment(101, 2, Decimal("10"), "USD", Decimal(21), "manual", 1_795_168_800_000,
             1_795_168_860_000, True, "tx-1", "john@x.lt", "")
P2 = Payment(102, 6, Decimal("5.5"), "EUR", Decimal(15), "paypal", 1_795_255_200_000, 0,
             False)


class MoneyReader(UsersReader):
    """The users above; `answers` maps a projections read function to a function of its
    arguments; every call is recorded in `asked`."""

    def __init__(self, answers: Mapping[Callable[..., Any], Callable[..., Any]] = {}
                 ) -> None:
        super().__init__(USERS)
        self.answers = {user_by_id: lambda user_id: USERS.get(user_id), **answers}
        self.asked: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.asked.append((read, args, kwargs))
        return self.answers[read](*args, **kwargs)


class ListAppender:
    def __init__(self, fail: bool = False) -> None:
        self.records: list[tuple[str, bytes, dict[str, Any]]] = []
        self.fail = fail

    async def append(self, topic: str, key: bytes, value: bytes) -> None:
        if self.fail:
            raise OSError("broker down")
        self.records.append((topic, key, orjson.loads(value)))


def ask(name: str, params: Mapping[str, str], hashed: Sequence[str],
        reader: MoneyReader | None = None, appender: ListAppender | None = None,
        **settings: Any) -> str:
    app = create_app(Settings(api_secret=SECRET).with_(**settings),
                     reader=reader or MoneyReader(),
                     appender=appender or ListAppender(), clock=lambda: NOW)
    values = [params[key] for key in hashed if key in params]
    with TestClient(app) as client:
        return client.post(f"/billing/api/{name}",
                           data={**params, "hash": mor_hash(values, SECRET)}).text


def page_error(text: str) -> str:
    return f"{HEAD}<page>\n  <error>{text}</error>\n</page>\n"


# user_balance_update

BALANCE_HASHED = ("user_id", "balance")


def balance_reader(previous: str = "7.25") -> MoneyReader:
    return MoneyReader({balance: lambda user_id: Decimal(previous)})


def updated(username: str, user_id: int, shown: str) -> str:
    return (f"{HEAD}<page>\n  <page>\n    <status>User balance updated</status>\n"
            f"    <user>\n      <username>{username}</username>\n      <id>{user_id}</id>\n"
            f"      <balance>{shown}</balance>\n    </user>\n  </page>\n</page>\n")


@pytest.mark.parametrize("name", ["user_balance_update", "user_balance_change"])
def test_balance_update_appends_a_correction_and_shows_the_new_balance(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payment_methods, "new_id", lambda: 4242)
    appender = ListAppender()
    answer = ask(name, {"u": "admin", "user_id": "2", "balance": "-2.5"}, BALANCE_HASHED,
                 balance_reader(), appender)
    assert answer == updated("john", 2, "4.75")
    assert appender.records == [("account-events", b"2", {
        "schema": "cdrflow.account-event/1", "type": "payment_created", "payment_id": 4242,
        "user_id": 2, "amount": "-2.5", "currency": "USD", "vat_percent": "0",
        "payment_type": "correction", "paid_ms": NOW_MS, "confirmed_ms": NOW_MS,
        "completed": True})]
    payment = parse_account_event(appender.records[0][2])
    assert isinstance(payment, Payment) and payment.amount == Decimal("-2.5")


def test_a_reseller_updates_the_balance_of_its_own_user() -> None:
    answer = ask("user_balance_update", {"u": "res", "user_id": "6", "balance": "3"},
                 BALANCE_HASHED, balance_reader("0"))
    assert answer == updated("bob", 6, "3.0")


@pytest.mark.parametrize(("caller", "user_id"), [
    ("res", "2"),  # not the reseller's user
    ("res", "5"),  # the reseller itself: the admin manages its money
    ("admin", "99"),  # unknown
])
def test_balance_update_of_a_user_not_managed_is_user_not_found(caller: str,
                                                                user_id: str) -> None:
    appender = ListAppender()
    answer = ask("user_balance_update", {"u": caller, "user_id": user_id, "balance": "1"},
                 BALANCE_HASHED, balance_reader(), appender)
    assert answer == page_error("User was not found")
    assert appender.records == []


@pytest.mark.parametrize("caller", ["john", "acc"])
def test_balance_update_by_a_user_or_accountant_is_bad_login(caller: str) -> None:
    answer = ask("user_balance_update", {"u": caller, "user_id": "2", "balance": "1"},
                 BALANCE_HASHED, balance_reader())
    assert answer == page_error("Bad login")


@pytest.mark.parametrize(("params", "text"), [
    ({"user_id": "2"}, "User balance not updated"),  # no amount
    ({"user_id": "2", "balance": "0"}, "User balance not updated"),
    ({"user_id": "2", "balance": "0.0000001"}, "User balance not updated"),
    ({"user_id": "2", "balance": "ten"}, "Invalid parameter: balance"),
    ({"balance": "1"}, "User was not found"),
    ({"user_id": "x", "balance": "1"}, "User was not found"),
])
def test_balance_update_refusals(params: dict[str, str], text: str) -> None:
    appender = ListAppender()
    answer = ask("user_balance_update", {"u": "admin", **params}, BALANCE_HASHED,
                 balance_reader(), appender)
    assert answer == page_error(text)
    assert appender.records == []


def test_balance_update_the_log_refuses() -> None:
    answer = ask("user_balance_update", {"u": "admin", "user_id": "2", "balance": "1"},
                 BALANCE_HASHED, balance_reader(), ListAppender(fail=True))
    assert answer == page_error("User balance not updated")


def test_balance_update_wrong_hash() -> None:
    app = create_app(Settings(api_secret=SECRET), reader=balance_reader(),
                     appender=ListAppender())
    with TestClient(app) as client:
        answer = client.post("/billing/api/user_balance_update",
                             data={"u": "admin", "user_id": "2", "balance": "1",
                                   "hash": mor_hash(["2"], SECRET)}).text
    assert answer == page_error("Incorrect hash")


# payments_get


def payment_xml(user: str, payer: str, transaction: str, date: str, confirm: str, kind: str,
                amount: str, with_tax: str, currency: str, completed: str,
                confirmed: str) -> str:
    return (f"    <payment>\n      <user>{user}</user>\n      <payer>{payer}</payer>\n"
            f"      <transaction_id>{transaction}</transaction_id>\n"
            f"      <date>{date}</date>\n      <confirm_date>{confirm}</confirm_date>\n"
            f"      <type>{kind}</type>\n      <amount>{amount}</amount>\n"
            f"      <fee>0.0</fee>\n      <amount_with_tax>{with_tax}</amount_with_tax>\n"
            f"      <currency>{currency}</currency>\n      <completed>{completed}</completed>\n"
            f"      <confirmed_by_admin>{confirmed}</confirmed_by_admin>\n    </payment>\n")


JOHN_PAYMENT = payment_xml("John Smith", "john@x.lt", "tx-1", "2026-11-20 12:00:00",
                           "2026-11-20 12:01:00", "manual", "10.0", "12.1", "USD", "1", "1")
BOB_PAYMENT = payment_xml("Bob Brown", "", "", "2026-11-21 10:00:00", "", "paypal", "5.5",
                          "6.325", "EUR", "0", "0")


def payments_page(*rows: str) -> str:
    body = "".join(rows)
    inner = f"  <payments>\n{body}  </payments>\n" if rows else "  <payments></payments>\n"
    return f"{HEAD}<page>\n{inner}</page>\n"


def list_reader(*found: Payment) -> MoneyReader:
    return MoneyReader({payment_list: lambda where: list(found)})


SEARCH = payment_methods.SEARCH


@pytest.mark.parametrize("name", ["payments_get", "payments_list"])
def test_payments_get_as_admin_lists_every_payment(name: str) -> None:
    reader = list_reader(P1, P2)
    assert ask(name, {"u": "admin"}, SEARCH, reader) == payments_page(JOHN_PAYMENT,
                                                                      BOB_PAYMENT)
    assert reader.asked[-1][1] == (PaymentFilter(),)


@pytest.mark.parametrize(("caller", "scope"), [
    ("acc", PaymentFilter()),
    ("res", PaymentFilter(owner_id=5)),
    ("john", PaymentFilter(user_id=2)),
])
def test_payments_get_is_limited_to_what_the_caller_sees(caller: str,
                                                         scope: PaymentFilter) -> None:
    reader = list_reader(P1)
    assert ask("payments_get", {"u": caller}, SEARCH, reader) == payments_page(JOHN_PAYMENT)
    assert reader.asked[-1][1] == (scope,)


def test_payments_get_passes_every_search_parameter() -> None:
    params = {"u": "res", "s_user_id": "6", "s_from": "1795168800", "s_till": "1795255200",
              "s_transaction": "tx-1", "s_completed": "0", "s_username": "Bo",
              "s_first_name": "b", "s_last_name": "Brown", "s_paymenttype": "PayPal",
              "s_amount_min": "1", "s_amount_max": "9.5", "s_currency": "eur"}
    reader = list_reader()
    assert ask("payments_get", params, SEARCH, reader) == payments_page()
    assert reader.asked[-1][1] == (PaymentFilter(
        owner_id=5, user_id=6, paid_from_ms=1_795_168_800_000,
        paid_till_ms=1_795_255_200_999, transaction_id="tx-1", completed=False,
        username="Bo", first_name="b", last_name="Brown", payment_type="paypal",
        amount_min=Decimal(1), amount_max=Decimal("9.5"), currency="EUR"),)


def test_payments_get_ignores_s_from_without_s_till() -> None:
    reader = list_reader()
    ask("payments_get", {"u": "admin", "s_from": "1795168800"}, SEARCH, reader)
    assert reader.asked[-1][1] == (PaymentFilter(),)


@pytest.mark.parametrize(("caller", "user_id"), [("res", "2"), ("john", "3"),
                                                 ("admin", "99")])
def test_payments_get_of_a_user_not_seen_is_bad_login(caller: str, user_id: str) -> None:
    answer = ask("payments_get", {"u": caller, "s_user_id": user_id}, SEARCH, list_reader())
    assert answer == page_error("Bad login")


@pytest.mark.parametrize("name", ["s_user_id", "s_from", "s_completed", "s_amount_min"])
def test_payments_get_invalid_parameter(name: str) -> None:
    answer = ask("payments_get", {"u": "admin", name: "x", "s_till": "1"}, SEARCH,
                 list_reader())
    assert answer == page_error(f"Invalid parameter: {name}")


def test_payments_get_hash_covers_the_search() -> None:
    app = create_app(Settings(api_secret=SECRET), reader=list_reader(),
                     appender=ListAppender())
    with TestClient(app) as client:
        answer = client.post("/billing/api/payments_get",
                             data={"u": "admin", "s_user_id": "2",
                                   "hash": mor_hash([], SECRET)}).text
    assert answer == page_error("Incorrect hash")


# payment_create

CREATE_HASHED = ("user_id",)


def created(confirmed: str, payment_id: str, currency: str, tax: str, amount: str,
            gross: str) -> str:
    return (f"{HEAD}<response>\n  <status>ok</status>\n  <confirmed>{confirmed}</confirmed>\n"
            f'  <payment currency="{currency}">\n    <payment_id>{payment_id}</payment_id>\n'
            f"    <tax>{tax}</tax>\n    <amount>{amount}</amount>\n    <gross>{gross}</gross>\n"
            "  </payment>\n</response>\n")


def create(params: Mapping[str, str], appender: ListAppender | None = None,
           **settings: Any) -> str:
    return ask("payment_create", params, CREATE_HASHED, MoneyReader(), appender,
               **{"api_payments": True, **settings})


@pytest.mark.parametrize("name", ["payment_create", "create_payment"])
def test_payment_create_adds_tax_and_completes_the_payment(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payment_methods, "new_id", lambda: 555)
    appender = ListAppender()
    answer = ask(name, {"u": "admin", "user_id": "2", "p_currency": "usd", "amount": "10",
                        "paymenttype": "PayPal", "payer_email": "john@x.lt",
                        "comments_for_user": "Thanks"}, CREATE_HASHED, MoneyReader(),
                 appender, api_payments=True)
    assert answer == created("1", "555", "USD", "2.1", "10.0", "12.1")
    assert appender.records == [("account-events", b"2", {
        "schema": "cdrflow.account-event/1", "type": "payment_created", "payment_id": 555,
        "user_id": 2, "amount": "10", "currency": "USD", "vat_percent": "21",
        "payment_type": "paypal", "paid_ms": NOW_MS, "confirmed_ms": NOW_MS,
        "completed": True, "transaction_id": "", "payer": "john@x.lt",
        "comment": "Thanks"})]


def test_payment_create_with_tax_in_amount_and_confirmation_waits() -> None:
    appender = ListAppender()
    answer = create({"u": "res", "user_id": "6", "p_currency": "EUR", "amount": "11.5",
                     "tax_in_amount": "1", "transaction": "T-77"}, appender,
                    api_payment_confirmation=True)
    payment_id = payment_methods.payment_id(6, "T-77")
    assert answer == created("0", str(payment_id), "EUR", "1.5", "10.0", "11.5")
    event = appender.records[0][2]
    assert (event["amount"], event["completed"], event["confirmed_ms"],
            event["transaction_id"]) == ("10.000000", False, 0, "T-77")
    # the same transaction again is the same payment (a retry replaces, never adds)
    assert payment_methods.payment_id(6, "T-77") == payment_id != payment_methods.payment_id(
        2, "T-77")


def test_split_tax_rounds_the_amount_without_tax() -> None:
    assert payment_methods.split_tax(Decimal(10), Decimal(3), True) == (
        Decimal("9.708738"), Decimal("0.291262"), Decimal(10))
    assert payment_methods.split_tax(Decimal(10), Decimal("15.5"), False) == (
        Decimal(10), Decimal("1.55"), Decimal("11.55"))


def test_payment_create_needs_the_feature() -> None:
    assert create({"u": "admin", "user_id": "2", "p_currency": "USD", "amount": "1"},
                  api_payments=False) == page_error("Feature disabled")


@pytest.mark.parametrize(("caller", "params", "text"), [
    ("john", {"user_id": "2"}, "Bad login"),  # a user pays nothing in by the API
    ("acc", {"user_id": "2"}, "Bad login"),
    ("res", {"user_id": "2"}, "Bad login"),  # not the reseller's user
    ("admin", {"user_id": "99"}, "Bad login"),
    ("admin", {}, "Bad login"),
    ("admin", {"user_id": "2", "p_currency": ""}, "No currency"),
    ("admin", {"user_id": "2", "p_currency": "EUR"}, "No currency"),  # john pays in USD
    ("admin", {"user_id": "2", "amount": "0"}, "Payment was not saved"),
    ("admin", {"user_id": "2", "amount": "0.0000001"}, "Payment was not saved"),
    ("admin", {"user_id": "2", "amount": "1e3"}, "Invalid parameter: amount"),
    ("admin", {"user_id": "2", "amount": ""}, "Invalid parameter: amount"),
    ("admin", {"user_id": "2", "paymenttype": "pay pal"}, "Invalid parameter: paymenttype"),
    ("admin", {"user_id": "2", "tax_in_amount": "2"}, "Invalid parameter: tax_in_amount"),
    ("admin", {"user_id": "2", "payer_email": "x" * 256}, "Invalid parameter: payer_email"),
])
def test_payment_create_refusals(caller: str, params: dict[str, str], text: str) -> None:
    appender = ListAppender()
    answer = create({"u": caller, "p_currency": "USD", "amount": "1", **params}, appender)
    assert answer == page_error(text)
    assert appender.records == []


def test_payment_create_the_log_refuses() -> None:
    answer = create({"u": "admin", "user_id": "2", "p_currency": "USD", "amount": "1"},
                    ListAppender(fail=True))
    assert answer == page_error("Payment was not saved")


def test_payments_get_amount_bounds_are_rounded_into_the_column() -> None:
    reader = list_reader()
    ask("payments_get", {"u": "admin", "s_amount_min": "1.0000001",
                         "s_amount_max": "2.0000009"}, SEARCH, reader)
    assert reader.asked[-1][1] == (PaymentFilter(amount_min=Decimal("1.000001"),
                                                 amount_max=Decimal("2.000000")),)
    assert ask("payments_get", {"u": "admin", "s_amount_max": "1" * 13}, SEARCH,
               reader) == page_error("Invalid parameter: s_amount_max")
