"""call_quality_get: the formulas, the XML, and the parameters, over an in-memory reader."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.app import create_app
from api.call_quality import HASHED, acd, asr, average, ner, percent, render
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections.call_quality import EFFECTIVE, Counts, Scope, quality, totals
from projections.queries import User
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
URL = "/billing/api/call_quality_get"
NOW = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # already the 21st in Vilnius
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
USERS = {
    0: User(0, "admin", "", "", "admin", 0, "USD", "UTC"),
    2: User(2, "res", "", "", "reseller", 0, "USD", "Europe/Vilnius"),
    5: User(5, "bob", "", "", "user", 2, "EUR", "UTC"),
    6: User(6, "carol", "", "", "user", 0, "EUR", "UTC"),
    7: User(7, "acc", "", "", "accountant", 0, "USD", "UTC"),
}
GERMANY = Counts("Germany", 0, 8, 3, 100, 7)
FRANCE = Counts("France & Co <MOB>", 0, 3, 0, 0, 1)


class FakeReader(UsersReader):
    def __init__(self) -> None:
        super().__init__(USERS)
        self.asked: list[tuple[Any, ...]] = []

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        assert read is quality
        self.asked.append(args)
        return [GERMANY, FRANCE]


def ask(params: Mapping[str, str], reader: FakeReader | None = None, **changes: Any) -> str:
    app = create_app(Settings(api_secret=SECRET).with_(**changes),
                     reader=reader or FakeReader(), clock=lambda: NOW)
    values = [params[name] for name in HASHED if name in params]
    with TestClient(app) as client:
        return client.post(URL, data={**params, "hash": mor_hash(values, SECRET)}).text


def error(text: str) -> str:
    return f"{HEAD}<error>{text}</error>\n"


# formulas


@pytest.mark.parametrize(("part", "whole", "shown"), [
    (1, 3, "33.33"), (2, 3, "66.67"), (1, 8, "12.50"), (1, 1, "100.00"), (0, 5, "0.00"),
    (1, 0, "0.00"), (1, 80_000, "0.00"), (1, 40_000, "0.00"), (1, 20_000, "0.01"),
])
def test_percent_has_two_decimals_rounded_half_up(part: int, whole: int, shown: str) -> None:
    assert percent(part, whole) == shown


@pytest.mark.parametrize(("total", "count", "shown"), [
    (1, 8, "0.13"), (3, 8, "0.38"), (100, 3, "33.33"), (91, 2, "45.50"), (5, 0, "0.00"),
    (0, 4, "0.00"), (7200, 1, "7200.00"),
])
def test_average_rounds_half_up_not_to_even(total: int, count: int, shown: str) -> None:
    assert average(total, count) == shown


def test_asr_acd_ner() -> None:
    assert (asr(GERMANY), acd(GERMANY), ner(GERMANY)) == ("37.50", "33.33", "87.50")
    assert (asr(FRANCE), acd(FRANCE), ner(FRANCE)) == ("0.00", "0.00", "33.33")
    assert totals([GERMANY, FRANCE]) == Counts("", 0, 11, 3, 100, 8)
    assert totals([]) == Counts("", 0, 0, 0, 0, 0)


def test_ner_counts_every_non_failed_call_and_the_user_side_causes() -> None:
    assert EFFECTIVE == ("(disposition != 'FAILED' OR hangup_cause IN (17, 18, 19, 20, 21))")


# rendering


def test_render_per_destination() -> None:
    assert render(1795132800, 1795219199, ZoneInfo("UTC"), "all", "destination",
                  [GERMANY, FRANCE]) == (
        f"{HEAD}<page>\n <call_quality>\n"
        "  <period>\n   <start>2026-11-20 00:00:00</start>\n"
        "   <end>2026-11-20 23:59:59</end>\n  </period>\n"
        "  <user>all</user>\n  <group_by>destination</group_by>\n"
        "  <rows>\n"
        "   <row>\n    <name>Germany</name>\n    <attempts>8</attempts>\n"
        "    <answered>3</answered>\n    <billsec>100</billsec>\n    <asr>37.50</asr>\n"
        "    <acd>33.33</acd>\n    <ner>87.50</ner>\n   </row>\n"
        "   <row>\n    <name>France &amp; Co &lt;MOB&gt;</name>\n    <attempts>3</attempts>\n"
        "    <answered>0</answered>\n    <billsec>0</billsec>\n    <asr>0.00</asr>\n"
        "    <acd>0.00</acd>\n    <ner>33.33</ner>\n   </row>\n"
        "  </rows>\n"
        "  <totals>\n   <attempts>11</attempts>\n   <answered>3</answered>\n"
        "   <billsec>100</billsec>\n   <asr>27.27</asr>\n   <acd>33.33</acd>\n"
        "   <ner>72.73</ner>\n  </totals>\n"
        " </call_quality>\n</page>\n")


def test_render_per_provider_and_empty() -> None:
    carrier = Counts("Carrier A", 5, 2, 1, 61, 2)
    text = render(0, 59, ZoneInfo("Europe/Vilnius"), "5", "provider", [carrier])
    assert "   <row>\n    <provider_id>5</provider_id>\n    <name>Carrier A</name>\n" in text
    assert "<start>1970-01-01 03:00:00</start>" in text
    assert "<user>5</user>\n  <group_by>provider</group_by>\n" in text
    empty = render(0, 0, ZoneInfo("UTC"), "all", "destination", [])
    assert "  <rows></rows>\n  <totals>\n   <attempts>0</attempts>\n" in empty
    assert "<asr>0.00</asr>\n   <acd>0.00</acd>\n   <ner>0.00</ner>\n" in empty
    ET.fromstring(text)  # noqa: S314 - our own output
    ET.fromstring(empty)  # noqa: S314


# parameters and scope


def test_defaults_today_in_the_callers_zone_per_destination_every_visible_call() -> None:
    reader = FakeReader()
    assert "<name>Germany</name>" in ask({"u": "admin"}, reader)
    res = ask({"u": "res"}, reader)
    assert "<start>2026-11-21 00:00:00</start>\n   <end>2026-11-21 23:59:59</end>" in res
    assert reader.asked == [
        ("destination", Scope(), 1795132800, 1795219199),
        ("destination", Scope(reseller_id=2), 1795212000, 1795298399),  # Vilnius, UTC+2
    ]


@pytest.mark.parametrize(("u", "s_user", "scope"), [
    ("admin", "6", Scope(user_id=6)), ("admin", "all", Scope()), ("acc", "5", Scope(user_id=5)),
    ("acc", "ALL", Scope()), ("res", "5", Scope(user_id=5)), ("res", "2", Scope(user_id=2)),
    ("bob", "5", Scope(user_id=5)), ("bob", "all", Scope(user_id=5)),
    ("bob", "", Scope(user_id=5)),
])
def test_s_user_scopes_the_calls(u: str, s_user: str, scope: Scope) -> None:
    reader = FakeReader()
    answer = ask({"u": u, "s_user": s_user, "period_start": "0", "period_end": "10"}, reader)
    assert f"<user>{s_user or 'all'}</user>" in answer
    assert reader.asked == [("destination", scope, 0, 10)]


@pytest.mark.parametrize(("u", "s_user"), [
    ("res", "6"), ("res", "0"), ("bob", "6"), ("bob", "2"), ("admin", "99"), ("admin", "-1"),
    ("admin", "x"), ("admin", "1" * 21),
])
def test_users_the_caller_may_not_see(u: str, s_user: str) -> None:
    reader = FakeReader()
    assert ask({"u": u, "s_user": s_user}, reader) == error("User was not found")
    assert reader.asked == []


@pytest.mark.parametrize(("params", "refused"), [
    ({"period_start": "x"}, "period_start"), ({"period_start": "-1"}, "period_start"),
    ({"period_start": "2026-11-20"}, "period_start"),
    ({"period_end": "253402128001"}, "period_end"), ({"period_end": "1.5"}, "period_end"),
    ({"group_by": "country"}, "group_by"), ({"period_start": "x", "group_by": "y"},
                                            "period_start"),
])
def test_invalid_parameters(params: dict[str, str], refused: str) -> None:
    assert ask({"u": "admin", **params}) == error(f"Invalid parameter: {refused}")


def test_group_by_any_case_and_providers_only_for_admin_and_accountant() -> None:
    reader = FakeReader()
    assert "<group_by>provider</group_by>" in ask({"u": "acc", "group_by": "PROVIDER"}, reader)
    assert "<group_by>destination</group_by>" in ask({"u": "bob", "group_by": "Destination"},
                                                      reader)
    assert [args[0] for args in reader.asked] == ["provider", "destination"]
    for u in ("res", "bob"):
        assert ask({"u": u, "group_by": "provider"}) == error(
            "You are not authorized to use this functionality")


def test_access_rules_come_first() -> None:
    assert ask({"u": "nobody", "s_user": "x"}) == error("Access Denied")
    app = create_app(Settings(api_secret=SECRET), reader=FakeReader(), clock=lambda: NOW)
    with TestClient(app) as client:
        assert client.post(URL, data={"u": "admin", "hash": "0" * 40}).text == error(
            "Incorrect hash")
        assert client.get(URL, params={"u": "admin"}).text == error(
            "GET Requests are disabled")
    assert "<call_quality>" in ask({"u": "admin"}, allow_get_api=True)


def test_the_hash_covers_the_parameters_in_documented_order() -> None:
    assert HASHED == ("s_user", "period_start", "period_end", "group_by")
    app = create_app(Settings(api_secret=SECRET), reader=FakeReader(), clock=lambda: NOW)
    params = {"u": "admin", "group_by": "provider", "s_user": "5"}
    documented = mor_hash(["5", "provider"], SECRET)
    with TestClient(app) as client:
        assert "<call_quality>" in client.post(URL, data={**params, "hash": documented}).text
        assert client.post(URL, data={**params, "hash": mor_hash(["5"], SECRET)}).text == (
            error("Incorrect hash"))


def test_quality_refuses_an_unknown_grouping() -> None:
    with pytest.raises(ValueError, match="grouping"):
        quality(None, "country", Scope(), 0, 1)  # type: ignore[arg-type]
