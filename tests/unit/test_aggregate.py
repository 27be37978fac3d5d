"""aggregate_get over an in-memory reader: golden answers per role, every documented
error, the filter handed to ClickHouse, currency conversion and the groupings."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections.aggregates import AggregateFilter, Partial, in_currency, partials
from projections.callflow import devices_by_ids
from projections.devices import Device
from projections.providers import providers
from projections.queries import User
from projections.tariff_rates import exchange_rates
from rating.reference import Provider
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
URL = "/billing/api/aggregate_get"
NOW = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # already the 21st in Vilnius
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
USERS = {
    0: User(0, "admin", "System", "Admin", "admin", 0, "USD", "UTC"),
    2: User(2, "res", "Res", "Eller", "reseller", 0, "EUR", "Europe/Vilnius"),
    5: User(5, "bob", "Bob", "Smith", "user", 2, "EUR", "UTC"),
    6: User(6, "carol", "", "", "user", 0, "USD", "UTC"),
    7: User(7, "acc", "", "", "accountant", 0, "USD", "UTC"),
}
DEVICES = {10: Device(10, 5, "SIP", "bob-desk", "201"), 11: Device(11, 6, "IAX2", "c", "301")}
RATES = {"USD": Decimal(1), "EUR": Decimal("0.8")}
BOB = Partial(("5", "7", "Lithuania MOB"), ("", "Carrier A", ""), "EUR", 4, 3, 95_000,
              Decimal("2.5"), Decimal("1.2"))
CAROL = Partial(("6", "7", "Lithuania MOB"), ("", "Carrier A", ""), "USD", 2, 1, 30_000,
                Decimal("0.5"), Decimal("0.3"))


class FakeReader(UsersReader):
    def __init__(self, found: list[Partial] | None = None) -> None:
        super().__init__(USERS)
        self.found = [BOB, CAROL] if found is None else found
        self.asked: list[AggregateFilter] = []

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if read is partials:
            self.asked.append(args[0])
            return self.found
        if read is exchange_rates:
            return dict(RATES)
        if read is devices_by_ids:
            return {i: DEVICES[i] for i in args[0] if i in DEVICES}
        if read is providers:
            return [Provider(7, "Carrier A", 3)]
        raise AssertionError(read)


def ask(params: Mapping[str, str], reader: FakeReader | None = None, **changes: Any) -> str:
    app = create_app(Settings(api_secret=SECRET).with_(**changes),
                     reader=reader or FakeReader(), clock=lambda: NOW)
    with TestClient(app) as client:
        return client.post(URL, data={**params, "hash": mor_hash([], SECRET)}).text


def error(text: str) -> str:
    return f"{HEAD}<page>\n  <error>{text}</error>\n</page>\n"


def figures(indent: str, calls: int, answered: int, asr: str, acd: str, billsec: str,
            orig: str, term: str, profit: str, margin: str) -> str:
    lines = [f"<total_calls>{calls}</total_calls>", f"<answered_calls>{answered}</answered_calls>",
             f"<asr>{asr}</asr>", f"<acd>{acd}</acd>", f"<billsec>{billsec}</billsec>",
             f"<originator_price>{orig}</originator_price>",
             f"<terminator_price>{term}</terminator_price>", f"<profit>{profit}</profit>",
             f"<margin>{margin}</margin>"]
    return "".join(f"{indent}{line}\n" for line in lines)


def page(start: str, end: str, currency: str, rows: list[str], totals: str) -> str:
    listed = (f"  <aggregates>\n{''.join(rows)}  </aggregates>\n" if rows
              else "  <aggregates></aggregates>\n")
    return (f"{HEAD}<page>\n  <period>\n    <from>{start}</from>\n    <till>{end}</till>\n"
            f"  </period>\n  <currency>{currency}</currency>\n{listed}"
            f"  <totals>\n{totals}  </totals>\n</page>\n")


ADMIN_ANSWER = page(
    "2026-11-20 00:00:00", "2026-11-20 23:59:59", "USD",
    ["    <aggregate>\n      <originator_id>5</originator_id>\n"
     "      <originator>Bob Smith</originator>\n      <terminator_id>7</terminator_id>\n"
     "      <terminator>Carrier A</terminator>\n      <dst_group>Lithuania MOB</dst_group>\n"
     + figures("      ", 4, 3, "75.00", "31.67", "95", "3.125", "1.5", "1.625", "52.00")
     + "    </aggregate>\n",
     "    <aggregate>\n      <originator_id>6</originator_id>\n"
     "      <originator>carol</originator>\n      <terminator_id>7</terminator_id>\n"
     "      <terminator>Carrier A</terminator>\n      <dst_group>Lithuania MOB</dst_group>\n"
     + figures("      ", 2, 1, "50.00", "30.00", "30", "0.5", "0.3", "0.2", "40.00")
     + "    </aggregate>\n"],
    figures("    ", 6, 4, "66.67", "31.25", "125", "3.625", "1.8", "1.825", "50.34"))


@pytest.mark.parametrize("u", ["admin", "acc"])
def test_admin_and_accountant_default_grouping_today_in_system_currency(u: str) -> None:
    reader = FakeReader()
    assert ask({"u": u}, reader) == ADMIN_ANSWER
    assert reader.asked == [AggregateFilter(1795132800, 1795219199, "UTC",
                                            ("user", "terminator", "dst_group"))]


def test_reseller_counts_his_users_calls_at_his_cost_without_providers() -> None:
    bob = Partial(("5", "Lithuania MOB"), ("", ""), "EUR", 4, 3, 95_000, Decimal("2.5"),
                  Decimal("2"))
    reader = FakeReader([bob])
    answer = ask({"u": "res", "group_by_terminator": "1", "group_by_user": "1",
                  "group_by_dst_group": "1"}, reader)
    assert answer == page(
        "2026-11-21 00:00:00", "2026-11-21 23:59:59", "EUR",
        ["    <aggregate>\n      <originator_id>5</originator_id>\n"
         "      <originator>Bob Smith</originator>\n"
         "      <dst_group>Lithuania MOB</dst_group>\n"
         + figures("      ", 4, 3, "75.00", "31.67", "95", "2.5", "2.0", "0.5", "20.00")
         + "    </aggregate>\n"],
        figures("    ", 4, 3, "75.00", "31.67", "95", "2.5", "2.0", "0.5", "20.00"))
    assert reader.asked == [AggregateFilter(1795212000, 1795298399, "Europe/Vilnius",
                                            ("user", "dst_group"), owner_id=2,
                                            cost="reseller")]


def test_a_simple_user_is_refused() -> None:
    reader = FakeReader()
    assert ask({"u": "bob"}, reader) == error(
        "You are not authorized to use this functionality")
    assert reader.asked == []


def test_every_filter_reaches_the_query() -> None:
    reader = FakeReader([])
    answer = ask({"u": "admin", "from": "1795132800", "till": "1795140000",
                  "a_currency": "eur", "s_originator_id": "5", "s_terminator_id": "7",
                  "s_device": "10", "s_provider": "7", "a_src": "370", "a_dst": "%555",
                  "s_duration": "10", "dst_group": "Lithuania MOB", "use_real_billsec": "1",
                  "group_by_day": "1"}, reader)
    assert answer == page("2026-11-20 00:00:00", "2026-11-20 02:00:00", "EUR", [],
                          figures("    ", 0, 0, "0.00", "0.00", "0.000", "0.0", "0.0", "0.0",
                                  "0.00"))
    assert reader.asked == [AggregateFilter(
        1795132800, 1795140000, "UTC", ("day",), user_id=5, device_id=10, terminator_id=7,
        provider_id=7, src="370%", dst="%555", min_seconds=10, dst_group="Lithuania MOB",
        real_billsec=True)]


def test_every_grouping_and_real_billsec() -> None:
    row = Partial(("5", "10", "7", "Lithuania MOB", "3706", "20261120", "2026112010",
                   "0.050000", "0.020000"),
                  ("", "", "Carrier A", "", "Lithuania & Co", "", "", "", ""), "USD", 1, 1,
                  90_500, Decimal("0.075417"), Decimal("0.030167"))
    flags = {f"group_by_{name}": "1" for name in (
        "user", "device", "provider", "dst_group", "dst", "day", "hour", "user_rate",
        "provider_rate")}
    reader = FakeReader([row])
    answer = ask({"u": "admin", "use_real_billsec": "1", **flags}, reader)
    assert answer == page(
        "2026-11-20 00:00:00", "2026-11-20 23:59:59", "USD",
        ["    <aggregate>\n      <originator_id>5</originator_id>\n"
         "      <originator>Bob Smith</originator>\n      <device_id>10</device_id>\n"
         "      <device>SIP/201</device>\n      <terminator_id>7</terminator_id>\n"
         "      <terminator>Carrier A</terminator>\n      <dst_group>Lithuania MOB</dst_group>\n"
         "      <dst>3706</dst>\n      <destination>Lithuania &amp; Co</destination>\n"
         "      <day>2026-11-20</day>\n      <hour>2026-11-20 10:00</hour>\n"
         "      <user_rate>0.05</user_rate>\n      <provider_rate>0.02</provider_rate>\n"
         + figures("      ", 1, 1, "100.00", "90.50", "90.500", "0.075417", "0.030167",
                   "0.04525", "60.00")
         + "    </aggregate>\n"],
        figures("    ", 1, 1, "100.00", "90.50", "90.500", "0.075417", "0.030167", "0.04525",
                "60.00"))
    assert reader.asked[0].groups == ("user", "device", "terminator", "dst_group", "dst",
                                      "day", "hour", "user_rate", "provider_rate")


@pytest.mark.parametrize(("u", "params", "text"), [
    ("admin", {"s_originator_id": "99"}, "User was not found"),
    ("admin", {"s_originator_id": "x"}, "User was not found"),
    ("res", {"s_originator_id": "6"}, "User was not found"),  # not his user
    ("res", {"s_originator_id": "2"}, "User was not found"),  # his own calls are not counted
    ("acc", {"s_terminator_id": "8"}, "Terminator was not found"),
    ("res", {"s_terminator_id": "7"}, "Terminator was not found"),  # providers are hidden
    ("admin", {"s_device": "12"}, "Device was not found"),
    ("res", {"s_device": "11"}, "Device was not found"),  # carol's device
    ("admin", {"s_provider": "8"}, "Provider was not found"),
    ("res", {"s_provider": "7"}, "Provider was not found"),
    ("admin", {"from": "yesterday"}, "Invalid parameter: from"),
    ("admin", {"a_currency": "XYZ"}, "Invalid parameter: a_currency"),
    ("admin", {"a_currency": "<b>"}, "Invalid parameter: a_currency"),
    ("admin", {"group_by_day": "yes"}, "Invalid parameter: group_by_day"),
    ("admin", {"a_dst": "37_0"}, "Invalid parameter: a_dst"),
    ("admin", {"s_duration": "-1"}, "Invalid parameter: s_duration"),
    ("admin", {"use_real_billsec": "2"}, "Invalid parameter: use_real_billsec"),
])
def test_errors(u: str, params: dict[str, str], text: str) -> None:
    assert ask({"u": u, **params}) == error(text)


def test_access_errors_come_in_the_page_envelope() -> None:
    app = create_app(Settings(api_secret=SECRET), reader=FakeReader(), clock=lambda: NOW)
    with TestClient(app) as client:
        assert client.post(URL, data={"u": "admin", "hash": "0" * 40}).text == error(
            "Incorrect hash")
        assert client.post(URL, data={"u": "nobody"}).text == error("Access Denied")


def test_a_reseller_may_filter_his_users_device() -> None:
    reader = FakeReader([])
    ask({"u": "res", "s_device": "10", "s_originator_id": "5"}, reader)
    assert (reader.asked[0].device_id, reader.asked[0].user_id) == (10, 5)


def test_currency_conversion_rounds_half_up_to_six_decimals() -> None:
    assert in_currency(Decimal("1"), "EUR", "USD", RATES) == Decimal("1.25")
    assert in_currency(Decimal("1"), "USD", "GBP", {"USD": Decimal(1),
                                                    "GBP": Decimal("0.3333333")}) \
        == Decimal("0.333333")
    assert in_currency(Decimal("0.0000005"), "USD", "EUR", RATES) == Decimal("0.000000")
    assert in_currency(Decimal("2.5"), "EUR", "EUR", {}) == Decimal("2.5")  # no rate needed
    assert in_currency(Decimal(0), "XYZ", "EUR", {}) == 0
