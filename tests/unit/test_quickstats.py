"""quickstats_get over an in-memory reader: today's totals and live calls per role, the
hash rule (SHA1(u + secret) for callers who are not admins) and the error envelope."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections.active_calls import ActiveCall, active_calls
from projections.aggregates import AggregateFilter, Partial, partials
from projections.tariff_rates import exchange_rates
from tests.unit.fakes import UsersReader
from tests.unit.test_aggregate import NOW, RATES, USERS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
URL = "/billing/api/quickstats_get"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
T_MS = int(NOW.timestamp() * 1000)
LIVE = [
    ActiveCall("a", 5, 10, "201", "370", "370", 7, "Carrier A", 1, T_MS - 60_000,
               T_MS - 50_000, "answered"),
    ActiveCall("b", 6, 11, "301", "371", "371", 7, "Carrier A", 1, T_MS - 5_000, 0, "ringing"),
    ActiveCall("c", 6, 11, "301", "372", "372", 7, "Carrier A", 1, T_MS - 9_000,
               T_MS - 2_000, "answered"),
]
TODAY = [Partial((), (), "EUR", 5, 3, 95_000, Decimal("2.5"), Decimal("1.2")),
         Partial((), (), "USD", 2, 1, 30_000, Decimal("0.5"), Decimal("0.3"))]


class FakeReader(UsersReader):
    def __init__(self, found: list[Partial] | None = None) -> None:
        super().__init__(USERS)
        self.found = TODAY if found is None else found
        self.asked: list[Any] = []

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.asked.append((read.__name__, *args))
        if read is partials:
            return self.found
        if read is exchange_rates:
            return dict(RATES)
        if read is active_calls:
            return LIVE
        raise AssertionError(read)


def ask(u: str, hashed: list[str] | None = None, reader: FakeReader | None = None) -> str:
    app = create_app(Settings(api_secret=SECRET), reader=reader or FakeReader(),
                     clock=lambda: NOW)
    with TestClient(app) as client:
        return client.post(URL, data={"u": u, "hash": mor_hash(hashed or [], SECRET)}).text


def answer(calls: int, duration: int, revenue: str, self_cost: str, profit: str, margin: str,
           total: int, answered: int) -> str:
    return (f"{HEAD}<page>\n  <quickstats>\n    <today>\n"
            f"      <calls>{calls}</calls>\n      <duration>{duration}</duration>\n"
            f"      <revenue>{revenue}</revenue>\n      <self_cost>{self_cost}</self_cost>\n"
            f"      <profit>{profit}</profit>\n      <margin>{margin}</margin>\n"
            "    </today>\n    <active_calls>\n"
            f"      <total>{total}</total>\n      <answered_calls>{answered}</answered_calls>\n"
            "    </active_calls>\n  </quickstats>\n</page>\n")


@pytest.mark.parametrize(("u", "hashed"), [("admin", []), ("acc", []), ("acc", ["acc"])])
def test_admin_and_accountant_see_everything_in_their_currency(u: str,
                                                               hashed: list[str]) -> None:
    reader = FakeReader()
    # EUR 2.5 / 0.8 = 3.125 USD, + 0.5; cost 1.2 / 0.8 = 1.5, + 0.3
    assert ask(u, hashed, reader) == answer(4, 125, "3.625", "1.8", "1.825", "50.34", 3, 2)
    assert reader.asked[0] == ("partials", AggregateFilter(1795132800, 1795219199, "UTC"))
    assert reader.asked[-1] == ("active_calls", T_MS - 4 * 3600 * 1000)


def test_reseller_sees_his_users_today_at_his_cost_and_their_live_calls() -> None:
    reader = FakeReader([Partial((), (), "EUR", 5, 3, 95_000, Decimal("2.5"),
                                 Decimal("2"))])
    assert ask("res", ["res"], reader) == answer(3, 95, "2.5", "2.0", "0.5", "20.00", 1, 1)
    assert reader.asked[0] == ("partials", AggregateFilter(
        1795212000, 1795298399, "Europe/Vilnius", owner_id=2, cost="reseller"))


def test_a_user_sees_his_own_calls_and_no_cost() -> None:
    reader = FakeReader([Partial((), (), "USD", 2, 1, 30_000, Decimal("0.5"),
                                 Decimal("0.3"))])
    assert ask("carol", ["carol"], reader) == answer(1, 30, "0.5", "0.0", "0.0", "0.00", 2, 1)
    assert reader.asked[0] == ("partials", AggregateFilter(1795132800, 1795219199, "UTC",
                                                           user_id=6))


def test_no_calls_today() -> None:
    assert ask("admin", [], FakeReader([])) == answer(0, 0, "0.0", "0.0", "0.0", "0.00", 3, 2)


def test_hash_rule() -> None:
    denied = f"{HEAD}<page>\n  <error>Incorrect hash</error>\n</page>\n"
    assert ask("admin", ["admin"]) == denied  # an admin hashes the secret only
    assert ask("bob", ["bob"]).startswith(f"{HEAD}<page>\n  <quickstats>")
    assert ask("bob", ["carol"]) == denied
    assert ask("nobody") == f"{HEAD}<page>\n  <error>Access Denied</error>\n</page>\n"
