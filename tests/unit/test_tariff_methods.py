"""rate_get, tariffs_get and tariff_rates_get over an in-memory reader: golden XML for
each answer and each documented error, as each role."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections import tariff_rates
from projections.permission_groups import permission_group
from projections.queries import User, user_by_id
from rating.tariff import EVENT, Destination, Rate, Tariff, Tier
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

D = Decimal
SECRET = "456789"
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
NOW_MS = 1_795_953_600_000
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'

ADMIN = User(0, "admin", "", "", "admin", 0, "USD", "UTC")
JOHN = User(2, "john", "John", "Smith", "user", 0, "USD", "Europe/Vilnius")
RESELLER = User(5, "res", "Res", "Eller", "reseller", 0, "EUR", "Europe/Vilnius")
ANN = User(6, "ann", "Ann", "Jones", "user", 5, "EUR", "UTC")
ACCOUNTANT = User(7, "acc", "", "", "accountant", 0, "USD", "UTC")
NOBODY_TARIFF = User(8, "bare", "", "", "user", 0, "USD", "UTC")
RESTRICTED = User(9, "limited", "", "", "user", 0, "USD", "UTC", api_group="none")
USERS = {u.user_id: u for u in (ADMIN, JOHN, RESELLER, ANN, ACCOUNTANT, NOBODY_TARIFF,
                                RESTRICTED)}
USER_TARIFFS = {0: 1, 2: 1, 5: 3, 6: 3, 7: 1, 8: 77, 9: 1}


def wholesale(prefix: str, name: str, direction: str, kind: str, price: str, fee: str = "0",
              min_time: int = 0, increment: int = 1, **window: Any) -> Rate:
    return Rate.wholesale(Destination(prefix, name, direction, kind), D(price), D(fee),
                          min_time, increment, **window)


RETAIL = Tariff.of(1, 4, "Demo retail", "USD", 1_790_000_000_000, [
    wholesale("370", "Lithuania", "Lithuania", "fixed", "0.05"),
    wholesale("3706", "Lithuania MOB", "Lithuania", "mobile", "0.12", days="work",
              start_second=28_800, end_second=64_800),
    wholesale("3706", "Lithuania MOB", "Lithuania", "mobile", "0.06"),
    wholesale("447", "United Kingdom MOB", "United Kingdom", "mobile", "0.18", "0.02", 30, 60),
])
PROVIDER = Tariff.of(2, 1, "Carrier A buy", "USD", 0, [
    wholesale("370", "Lithuania", "Lithuania", "fixed", "0.02"),
])
TIERED = Tariff.of(3, 2, "Reseller <tiers>", "EUR", 1_780_000_000_000, [
    Rate(Destination("44", "United Kingdom", "United Kingdom", "fixed"),
         (Tier(0, 60, D("0.10"), 60), Tier(60, None, D("0.05"), 1),
          Tier(0, None, D("0.02"), 1, EVENT)), grace_time=3),
    wholesale("49", "Germany", "Germany", "fixed", "0.045"),
])
TARIFFS = {t.tariff_id: t for t in (RETAIL, PROVIDER, TIERED)}


class Reader(UsersReader):
    """The users above, their tariffs (in force at NOW only) and provider 2's."""

    def query(self, read: Callable[..., Any], *args: Any) -> Any:
        def at(at_ms: int) -> None:
            assert at_ms == NOW_MS  # the version in force now

        def in_force(tariff_id: int, at_ms: int) -> Tariff | None:
            at(at_ms)
            return TARIFFS.get(tariff_id)

        answers: dict[Callable[..., Any], Callable[..., Any]] = {
            user_by_id: self.user_by_id,
            permission_group: lambda name: None,
            tariff_rates.user_tariff_id: USER_TARIFFS.get,
            tariff_rates.user_tariff: lambda user_id, at_ms: in_force(
                USER_TARIFFS[user_id], at_ms),
            tariff_rates.tariff_in_force: in_force,
            tariff_rates.tariffs_in_force: lambda ids, at_ms: [
                t for t in (in_force(i, at_ms) for i in ids) if t is not None],
            tariff_rates.tariff_ids: lambda: sorted(TARIFFS),
            tariff_rates.owned_tariff_ids: lambda user_id: sorted({
                USER_TARIFFS[u.user_id] for u in USERS.values()
                if user_id in (u.user_id, u.owner_id) and u.user_id != 0}),
            tariff_rates.provider_tariff_ids: lambda: {2},
        }
        return answers[read](*args)


def client(**settings: Any) -> TestClient:
    app = create_app(Settings(api_secret=SECRET).with_(**settings), reader=Reader(USERS),
                     clock=lambda: NOW)  # type: ignore[arg-type]
    return TestClient(app)


def post(method: str, u: str, hashed: list[str], settings: dict[str, Any] | None = None,
         **params: str) -> str:
    answer = client(**(settings or {})).post(
        f"/billing/api/{method}", data={"u": u, **params, "hash": mor_hash(hashed, SECRET)})
    assert answer.status_code == 200
    return answer.text


def page_error(text: str) -> str:
    return f"{HEAD}<page>\n  <error>{text}</error>\n</page>\n"


# -- rate_get ----------------------------------------------------------------------------

RATE_ON = {"api_rate": True}


def rate(u: str, username: str | None, method: str = "rate_get",
         settings: dict[str, Any] | None = None, **params: str) -> str:
    named = {"username": username} if username is not None else {}
    return post(method, u, [username] if username is not None else [],
                RATE_ON if settings is None else settings, **named, **params)


def rate_page(text: str) -> str:
    return f"{HEAD}<page>\n  <rate>{text}</rate>\n</page>\n"


@pytest.mark.parametrize("method", ["rate_get", "rate"])
def test_rate_of_an_exact_prefix_is_its_highest_price_per_minute(method: str) -> None:
    assert rate("admin", "john", method, prefix="3706") == rate_page("0.12#Lithuania MOB#3706")
    assert rate("admin", "john", method, prefix="+370") == rate_page("0.05#Lithuania#370")


def test_exact_prefix_only_unless_by_full_dst() -> None:
    assert rate("admin", "john", prefix="37061234567") == page_error("Rate was not found")
    assert rate("admin", "john", prefix="37") == page_error("Rate was not found")
    assert rate("admin", "john", prefix="37061234567", by_full_dst="1") == rate_page(
        "0.12#Lithuania MOB#3706")
    assert rate("admin", "john", prefix="37091234567", by_full_dst="1") == rate_page(
        "0.05#Lithuania#370")
    assert rate("admin", "john", prefix="3706", by_full_dst="0") == rate_page(
        "0.12#Lithuania MOB#3706")
    assert rate("admin", "john", prefix="999", by_full_dst="1") == page_error(
        "Rate was not found")


def test_rate_as_each_role() -> None:
    assert rate("john", None, prefix="447") == rate_page("0.18#United Kingdom MOB#447")
    assert rate("john", "john", prefix="447") == rate_page("0.18#United Kingdom MOB#447")
    assert rate("res", "ann", prefix="44") == rate_page("0.1#United Kingdom#44")
    assert rate("res", "res", prefix="49") == rate_page("0.045#Germany#49")
    assert rate("acc", "ann", prefix="44") == rate_page("0.1#United Kingdom#44")
    for caller, username in [("john", "ann"), ("res", "john"), ("ann", "res"),
                             ("admin", "nobody")]:
        assert rate(caller, username, prefix="370") == page_error("User was not found")


def test_rate_errors() -> None:
    assert rate("admin", "john", settings={}, prefix="370") == page_error("Feature disabled")
    assert rate("john", "ann", settings={}, prefix="370") == page_error("Feature disabled")
    assert rate("admin", "bare", prefix="370") == page_error("Rate was not found")
    for prefix in ("", "37a", "1" * 41, "++370"):
        assert rate("admin", "john", prefix=prefix) == page_error(
            "Invalid parameter: prefix")
    assert rate("admin", "john") == page_error("Invalid parameter: prefix")
    assert rate("admin", "john", prefix="370", by_full_dst="yes") == page_error(
        "Invalid parameter: by_full_dst")
    assert rate("limited", "limited", prefix="370") == page_error(
        "You are not authorized to use this functionality")
    assert post("rate_get", "admin", ["x"], RATE_ON, username="john", prefix="370") == (
        page_error("Incorrect hash"))
    assert rate("nobody", "john", prefix="370") == page_error("Access Denied")


# -- tariffs_get -------------------------------------------------------------------------


def tariff_entry(tariff_id: int, name: str, purpose: str, currency: str, updated: str) -> str:
    return (f"    <tariff>\n      <id>{tariff_id}</id>\n      <name>{name}</name>\n"
            f"      <purpose>{purpose}</purpose>\n      <currency>{currency}</currency>\n"
            f"      <last_update_date>{updated}</last_update_date>\n    </tariff>\n")


def tariffs_page(*entries: str) -> str:
    return f"{HEAD}<page>\n  <tariffs>\n{''.join(entries)}  </tariffs>\n</page>\n"


EVERY_TARIFF = tariffs_page(
    tariff_entry(1, "Demo retail", "user_wholesale", "USD", "2026-09-21 14:13:20 +0000"),
    tariff_entry(2, "Carrier A buy", "provider", "USD", "1970-01-01 00:00:00 +0000"),
    tariff_entry(3, "Reseller &lt;tiers&gt;", "user", "EUR", "2026-05-28 20:26:40 +0000"),
)


@pytest.mark.parametrize("u", ["admin", "acc"])
def test_admin_and_accountant_see_every_tariff(u: str) -> None:
    assert post("tariffs_get", u, []) == EVERY_TARIFF
    assert post("tariffs_get", u, [u]) == EVERY_TARIFF  # the page's hash over u


def test_reseller_and_user_see_their_own_tariffs_in_their_zone() -> None:
    assert post("tariffs_get", "res", []) == tariffs_page(
        tariff_entry(3, "Reseller &lt;tiers&gt;", "user", "EUR", "2026-05-28 23:26:40 +0300"))
    assert post("tariffs_get", "john", []) == tariffs_page(
        tariff_entry(1, "Demo retail", "user_wholesale", "USD", "2026-09-21 17:13:20 +0300"))
    assert post("tariffs_get", "ann", []) == tariffs_page(
        tariff_entry(3, "Reseller &lt;tiers&gt;", "user", "EUR", "2026-05-28 20:26:40 +0000"))


def test_tariffs_errors() -> None:
    assert post("tariffs_get", "bare", []) == page_error("No Tariffs found")
    assert post("tariffs_get", "admin", ["admin", "x"]) == page_error("Incorrect hash")
    assert post("tariffs_get", "nobody", []) == page_error("Access Denied")
    assert post("tariffs_get", "limited", []) == page_error(
        "You are not authorized to use this functionality")


# -- tariff_rates_get --------------------------------------------------------------------


def rates_of(u: str, method: str = "tariff_rates_get",
                 settings: dict[str, Any] | None = None, **params: str) -> str:
    hashed = [params[name] for name in ("tariff_id", "user_id") if name in params]
    return post(method, u, hashed, settings, **params)


def wholesale_rate(direction: str, destination: str, prefix: str, subcode: str, price: str,
                   fee: str, increment: int, min_time: int, start: str, end: str,
                   daytype: str, effective: str) -> str:
    return ("    <rate>\n"
            f"      <direction>{direction}</direction>\n"
            f"      <destination>{destination}</destination>\n"
            f"      <prefix>{prefix}</prefix>\n      <subcode>{subcode}</subcode>\n"
            f"      <tariff_rate>{price}</tariff_rate>\n      <con_fee>{fee}</con_fee>\n"
            f"      <increment>{increment}</increment>\n      <min_time>{min_time}</min_time>\n"
            f"      <start_time>{start}</start_time>\n      <end_time>{end}</end_time>\n"
            f"      <daytype>{daytype}</daytype>\n"
            f"      <effective_from>{effective}</effective_from>\n    </rate>\n")


def tariff_page(name: str, purpose: str, currency: str, rates: str) -> str:
    return (f"{HEAD}<page>\n  <pagename>Tariff</pagename>\n  <tariff_name>{name}</tariff_name>\n"
            f"  <purpose>{purpose}</purpose>\n  <currency>{currency}</currency>\n"
            f"  <rates>\n{rates}  </rates>\n</page>\n")


def retail_tariff_page(effective_zone_note: str = "") -> str:
    def detail(start: int, duration: int, kind: str, round_by: int, price: str) -> str:
        return ("      <rate>\n"
                f"        <from>{start}</from>\n        <duration>{duration}</duration>\n"
                f"        <type>{kind}</type>\n        <round_by>{round_by}</round_by>\n"
                f"        <tariff_rate>{price}</tariff_rate>\n"
                "        <start_time>00:00:00</start_time>\n"
                "        <end_time>23:59:59</end_time>\n        <daytype></daytype>\n"
                "      </rate>\n")

    def destination(name: str, prefix: str, *details: str) -> str:
        return ("    <destination>\n"
                f"      <destination_group_name>{name}</destination_group_name>\n"
                "      <destination_group_type>FIX</destination_group_type>\n"
                f"      <prefix>{prefix}</prefix>\n{''.join(details)}    </destination>\n")

    return tariff_page("Reseller &lt;tiers&gt;", "user", "EUR", (
        destination("United Kingdom", "44", detail(1, 60, "minute", 60, "0.1"),
                    detail(61, -1, "minute", 1, "0.05"), detail(1, -1, "event", 1, "0.02"))
        + destination("Germany", "49", detail(1, -1, "minute", 1, "0.045"))))


def retail_page(effective: str) -> str:
    return tariff_page("Demo retail", "user_wholesale", "USD", "".join([
        wholesale_rate("Lithuania", "Lithuania", "370", "FIX", "0.05", "0.0", 1, 0,
                       "00:00:00", "23:59:59", "", effective),
        wholesale_rate("Lithuania", "Lithuania MOB", "3706", "MOB", "0.06", "0.0", 1, 0,
                       "00:00:00", "23:59:59", "", effective),
        wholesale_rate("Lithuania", "Lithuania MOB", "3706", "MOB", "0.12", "0.0", 1, 0,
                       "08:00:00", "17:59:59", "WD", effective),
        wholesale_rate("United Kingdom", "United Kingdom MOB", "447", "MOB", "0.18", "0.02",
                       60, 30, "00:00:00", "23:59:59", "", effective),
    ]))


DEMO_UTC = retail_page("2026-09-21 14:13:20")
DEMO_VILNIUS = retail_page("2026-09-21 17:13:20")
PROVIDER_PAGE = tariff_page("Carrier A buy", "provider", "USD", wholesale_rate(
    "Lithuania", "Lithuania", "370", "FIX", "0.02", "0.0", 1, 0, "00:00:00", "23:59:59", "",
    "1970-01-01 00:00:00"))


@pytest.mark.parametrize("method", ["tariff_rates_get", "get_tariff"])
def test_admin_reads_any_tariff(method: str) -> None:
    assert rates_of("admin", method) == DEMO_UTC  # his own
    assert rates_of("admin", method, tariff_id="3") == retail_tariff_page()
    assert rates_of("admin", method, tariff_id="2") == PROVIDER_PAGE
    assert rates_of("admin", method, user_id="2") == DEMO_VILNIUS  # in john's zone
    assert rates_of("admin", method, tariff_id="2", user_id="6") == retail_tariff_page()


def test_accountant_reads_any_tariff() -> None:
    assert rates_of("acc", tariff_id="2") == PROVIDER_PAGE
    assert rates_of("acc", user_id="6") == retail_tariff_page()
    assert rates_of("acc") == DEMO_UTC


def test_reseller_reads_his_and_his_users_tariffs() -> None:
    assert rates_of("res") == retail_tariff_page()
    assert rates_of("res", tariff_id="3") == retail_tariff_page()
    assert rates_of("res", user_id="6") == retail_tariff_page()
    assert rates_of("res", tariff_id="1") == page_error("No tariff found")
    assert rates_of("res", tariff_id="2") == page_error("No tariff found")
    assert rates_of("res", user_id="2") == page_error("No tariff found")


def test_user_reads_only_his_own_tariff() -> None:
    assert rates_of("john") == DEMO_VILNIUS
    assert rates_of("john", tariff_id="3") == DEMO_VILNIUS  # tariff_id ignored (MOR)
    assert rates_of("john", user_id="2") == DEMO_VILNIUS
    assert rates_of("john", user_id="6") == page_error("No tariff found")
    assert rates_of("ann", user_id="2") == page_error("No tariff found")


def test_tariff_rates_errors() -> None:
    assert rates_of("admin", tariff_id="99") == page_error("No tariff found")
    assert rates_of("admin", user_id="99") == page_error("No tariff found")
    assert rates_of("bare") == page_error("No tariff found")  # his tariff has no version
    assert rates_of("nobody") == page_error("Bad login")
    answer = client().post("/billing/api/tariff_rates_get", data={"hash": mor_hash([], SECRET)})
    assert answer.text == page_error("Bad login")
    assert post("tariff_rates_get", "admin", ["2"], tariff_id="3") == page_error(
        "Incorrect hash")
    assert rates_of("admin", tariff_id="x") == page_error("Invalid parameter: tariff_id")
    assert rates_of("admin", user_id="-1") == page_error("Invalid parameter: user_id")
    assert rates_of("limited") == page_error(
        "You are not authorized to use this functionality")
    assert rates_of("admin", settings={"allow_api": False}) == page_error(
        "API Requests are disabled")
    answer = client().get("/billing/api/get_tariff",
                          params={"u": "admin", "hash": mor_hash([], SECRET)})
    assert answer.text == page_error("GET Requests are disabled")
