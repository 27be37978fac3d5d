"""Rejected calls: reading them from their dead letters, the latest rejection of a call,
re-rating them into their first CDR, the report, the projection's rows, and
rejected_calls_get over an in-memory reader."""

from __future__ import annotations

import argparse
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from api.app import create_app
from api.hash import mor_hash
from api.rejected_calls import HASHED
from cdrflow import rerate_command
from cdrflow.dead_letters_command import line
from cdrflow.demo_data import account_events, tariff_event, tariff_events
from cdrflow.rerate_command import chosen, render_rejected
from cdrflow.settings import Settings
from projections.queries import User
from projections.rejections import (
    COLUMNS,
    UINT32_MAX,
    OpenRejection,
    RejectionFilter,
    open_rejections,
    record_rows,
)
from rating.call import Call
from rating.cdr import Cdr
from rating.rater import NO_RATE, UNKNOWN_USER, Rejection
from rating.reference import ReferenceData
from rating.rerate import (
    RejectedCall,
    RejectedReport,
    call_from_dict,
    latest_rejections,
    rate_rejected,
    reason_parts,
    rejected_call,
)
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC
# John (user 2) calls China: the demo tariff has no rate for 86
CALL = Call("rj-cn", T0, T0 + 2_000, T0 + 32_000, True, 2, 10, 1, "37052000201",
            "8613800138000", "37052000201", "SIP/201-0001", "rj-cn", 16, 30, 32)
NO_RATE_DETAIL = "tariff 1 v1 of user 2 has no rate for 8613800138000"
CHINA = {**tariff_event(1, version=2),
         "rates": [*tariff_event(1)["rates"], {"prefix": "86", "destination": "China",
                                               "rate": "0.12"}]}


def reference(*extra: dict[str, Any]) -> ReferenceData:
    data = ReferenceData()
    for event in [*account_events(), *tariff_events(), *extra]:
        data.apply(event)
    return data


def letter(reason: str = f"rejected: no_rate: {NO_RATE_DETAIL}",
           **changes: Any) -> dict[str, Any]:
    """A dead letter as the worker writes it for a rejected call (of CALL, unless `call`
    says otherwise)."""
    return {"schema": "cdrflow.dead-letter/1", "reason": reason, "topic": "call-events",
            "partition": 1, "offset": 42, "key": "rj-cn", "value": "{}",
            "value_b64": "e30=", "call": asdict(CALL), **changes}


def rejection(call: Call = CALL, reason: str = NO_RATE, detail: str = NO_RATE_DETAIL,
              at: int = T0 + 40_000) -> RejectedCall:
    return RejectedCall(call, reason, detail, at)


# reading a dead letter


def test_a_rejection_gives_back_the_call_its_reason_and_detail() -> None:
    assert rejected_call(letter(), 7) == RejectedCall(CALL, NO_RATE, NO_RATE_DETAIL, 7)
    assert reason_parts("rejected: no_rate: tariff 1: a: b") == ("no_rate", "tariff 1: a: b")
    assert reason_parts("rejected: unknown_user") == ("unknown_user", "")


@pytest.mark.parametrize("reason", [
    "not JSON: x", "late call_ended: the call was already closed", "internal error: x", "",
    "rejected:no_space",
])
def test_other_dead_letters_are_no_rejections(reason: str) -> None:
    assert reason_parts(reason) is None
    assert rejected_call(letter(reason=reason), 1) is None


@pytest.mark.parametrize(("call", "why"), [
    (None, "not a JSON object"),
    ({**asdict(CALL), "billsec": "30"}, "billsec must be a int"),
    ({**asdict(CALL), "billsec": 30.0}, "billsec must be a int"),
    ({**asdict(CALL), "user_id": -1}, "user_id must be a int"),
    ({**asdict(CALL), "ringing": 1}, "ringing must be a bool"),
    ({**asdict(CALL), "user_id": True}, "user_id must be a int"),
    ({k: v for k, v in asdict(CALL).items() if k != "dst"}, "missing ['dst']"),
    ({**asdict(CALL), "colour": "red"}, "unknown ['colour']"),
])
def test_a_rejection_whose_call_cannot_be_read_is_an_error(call: Any, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("[", r"\[").replace("]", r"\]")):
        rejected_call(letter(call=call), 1)


def test_optional_call_fields_take_their_defaults() -> None:
    old = {k: v for k, v in asdict(CALL).items() if k not in ("did", "closed_by")}
    assert call_from_dict(old) == CALL


def test_the_latest_rejection_of_a_call_counts_in_call_start_order() -> None:
    first = rejection(reason="no_tariff", at=1)
    again = rejection(at=5)
    earlier_call = rejection(replace(CALL, call_id="rj-a", start_ms=T0 - 1), at=3)
    assert latest_rejections([again, earlier_call, first]) == [earlier_call, again]
    assert latest_rejections([]) == []


# re-rating


def test_a_rejected_call_is_rated_into_version_1_once_the_rate_exists() -> None:
    still = rate_rejected(rejection(), reference())
    assert still == Rejection("rj-cn", NO_RATE, NO_RATE_DETAIL)
    cdr = rate_rejected(rejection(), reference(CHINA))
    assert isinstance(cdr, Cdr)
    # 30 s at 0.12/min
    assert (cdr.version, cdr.user_price, cdr.tariff_version, cdr.destination) == (
        1, Decimal("0.060000"), 2, "China")


def test_the_report_counts_rated_and_still_rejected_and_sums_per_currency() -> None:
    data = reference(CHINA)
    report = RejectedReport(keep=1)
    for call in (CALL, replace(CALL, call_id="rj-2", billsec=60),
                 replace(CALL, call_id="rj-3", user_id=99),
                 replace(CALL, call_id="rj-4", user_id=98)):
        report.add(rate_rejected(rejection(call), data))
    assert (report.examined, report.rated_calls, report.still_rejected) == (4, 2, 2)
    assert report.rated == {"USD": 2}
    assert report.money == {"USD": Decimal("0.180000")}
    assert report.still == {UNKNOWN_USER: 2}
    assert report.rejections == [Rejection("rj-3", UNKNOWN_USER, "user 99 is not known")]


def test_the_report_reads_as_a_table() -> None:
    data = reference(CHINA)
    report = RejectedReport()
    for call in (CALL, replace(CALL, call_id="rj-x", user_id=99)):
        report.add(rate_rejected(rejection(call), data))
    period = (1795132800, 1795219199)
    assert render_rejected(report, period, ZoneInfo("UTC"), 2, data, Settings(),
                           write=False) == (
        "what-if (testing mode): open rejected calls started 2026-11-20 00:00:00 to "
        "2026-11-20 23:59:59 (UTC), user 2 (john)\n"
        "\n"
        "examined 2: rated 1, still rejected 1\n"
        "\n"
        "currency  rated  user price\n"
        "USD           1    0.060000\n"
        "\n"
        "still rejected (they stay open):\n"
        "  unknown_user  1\n"
        "  rj-x  unknown_user: user 99 is not known\n"
        "\n"
        "nothing was published\n")
    empty = render_rejected(RejectedReport(), (None, None), ZoneInfo("UTC"), None, data,
                            Settings(topic_prefix="p-"), write=True)
    assert empty == ("re-rated: open rejected calls started any time, all users\n\n"
                     "no open rejected calls match\n\npublished 0 CDRs to p-cdrs\n")
    since = render_rejected(RejectedReport(), (1795132800, None), ZoneInfo("Europe/Vilnius"),
                            None, data, Settings(), write=False)
    assert since.startswith("what-if (testing mode): open rejected calls started from "
                            "2026-11-20 02:00:00 (Europe/Vilnius), all users\n")


def test_the_choice_of_rejected_calls_by_period_and_user() -> None:
    second = T0 // 1000
    assert chosen(rejection(), None, None, None)
    assert chosen(rejection(), second, second, 2)
    assert not chosen(rejection(), second + 1, None, None)
    assert not chosen(rejection(), None, second - 1, None)
    assert not chosen(rejection(), None, None, 3)


def test_the_listing_line() -> None:
    assert line(rejection()) == (
        f"2026-11-20 10:00:00  rj-cn  user 2  8613800138000  no_rate: {NO_RATE_DETAIL}")


def parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    rerate_command.add_parser(parser.add_subparsers())
    return parser.parse_args(["rerate", *argv])


def test_rerate_needs_a_period_except_for_rejected_calls(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert rerate_command.run(Settings(), parsed("--from", "2026-11-20")) == 2
    assert "--from and --to are required" in capsys.readouterr().err
    assert rerate_command.run(Settings(), parsed("--rejected", "--tariff", "1")) == 1
    assert "--tariff does not apply to --rejected" in capsys.readouterr().err
    assert rerate_command.run(Settings(), parsed("--rejected", "--from", "2026-11-21",
                                                 "--to", "2026-11-20")) == 1
    assert "--from is after --to" in capsys.readouterr().err


# the projection


def record(value: bytes | None, timestamp: int = T0 + 40_000) -> Any:
    return SimpleNamespace(value=value, timestamp=timestamp, key=b"call-events:1:42",
                           topic="dead-letters", partition=0, offset=7)


def test_a_rejection_is_one_row_of_rejected_calls() -> None:
    (table, row), = record_rows(record(orjson.dumps(letter())))
    assert table == "rejected_calls"
    assert dict(zip(COLUMNS, row, strict=True)) == {
        "call_id": "rj-cn", "calldate": datetime(2026, 11, 20, 10, tzinfo=UTC),
        "calldate_ms": 0, "user_id": 2, "device_id": 10, "server_id": 1,
        "src": "37052000201", "dst": "8613800138000", "clid": "37052000201",
        "provider_id": 0, "did": "", "hangup_cause": 16, "duration": 32, "billsec": 30,
        "reason": "no_rate", "detail": NO_RATE_DETAIL, "call": orjson.dumps(asdict(CALL)).decode(),
        "source": "call-events:1:42", "rejected": datetime(2026, 11, 20, 10, 0, 40, tzinfo=UTC),
        "version": T0 + 40_000}


def test_other_dead_letters_give_no_rows() -> None:
    assert list(record_rows(record(orjson.dumps(letter(reason="not JSON: x"))))) == []


@pytest.mark.parametrize("value", [
    b"garbage", b"[1]", orjson.dumps(letter(call={"call_id": "x"})),
    orjson.dumps(letter(call={**asdict(CALL), "server_id": 2**32})),
    orjson.dumps(letter(call={**asdict(CALL), "start_ms": (UINT32_MAX + 1) * 1000})),
])
def test_a_rejection_the_table_cannot_hold_is_refused_not_as_a_rejection(value: bytes) -> None:
    # the sink dead-letters it with this reason: not `rejected: ...`, so never again here
    with pytest.raises(ValueError) as refused:
        list(record_rows(record(value)))
    assert reason_parts(str(refused.value)) is None


# rejected_calls_get

SECRET = "456789"
URL = "/billing/api/rejected_calls_get"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
USERS = {
    0: User(0, "admin", "System", "Admin", "admin", 0, "USD", "UTC"),
    2: User(2, "john", "John", "Smith & Co", "user", 0, "USD", "UTC"),
    4: User(4, "res", "", "", "reseller", 0, "USD", "UTC"),
    7: User(7, "acc", "", "", "accountant", 0, "USD", "Europe/Vilnius"),
}
OPEN = [
    OpenRejection("rj-cn", T0 + 123, 2, 10, 1, "37052000201", "8613800138000", "37052000201",
                  0, "", 30, "no_rate", NO_RATE_DETAIL),
    OpenRejection("rj-<x>", T0 + 60_000, 99, 12, 1, "1", "2", "1", 5, "370520", 0,
                  "unknown_user", "user 99 is not known"),
]


class FakeReader(UsersReader):
    def __init__(self, found: list[OpenRejection] = OPEN) -> None:
        super().__init__(USERS)
        self.found = found
        self.asked: list[RejectionFilter] = []

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        assert read is open_rejections
        self.asked += args
        return self.found


def ask(params: Mapping[str, str], reader: FakeReader | None = None, **changes: Any) -> str:
    app = create_app(Settings(api_secret=SECRET).with_(**changes),
                     reader=reader or FakeReader())
    values = [params[name] for name in HASHED if name in params]
    with TestClient(app) as client:
        return client.post(URL, data={**params, "hash": mor_hash(values, SECRET)}).text


def error(text: str) -> str:
    return f"{HEAD}<error>{text}</error>\n"


def test_the_admin_lists_every_open_rejected_call() -> None:
    reader = FakeReader()
    answer = ask({"u": "admin"}, reader)
    assert answer == (
        f"{HEAD}<page>\n"
        " <pagename>Rejected calls</pagename>\n"
        " <language>en</language>\n"
        " <error_msg></error_msg>\n"
        " <userid>0</userid>\n"
        " <username>admin</username>\n"
        " <total_calls>2</total_calls>\n"
        " <calls_stat>\n"
        "   <period>\n"
        "     <period_start></period_start>\n"
        "     <period_end></period_end>\n"
        "   </period>\n"
        "   <show_reason>all</show_reason>\n"
        "   <calls>\n"
        "     <call>\n"
        "       <call_id>rj-cn</call_id>\n"
        "       <calldate2>2026-11-20 10:00:00</calldate2>\n"
        "       <clid>37052000201</clid>\n"
        f"       <detail>{NO_RATE_DETAIL}</detail>\n"
        "       <device_id>10</device_id>\n"
        "       <did></did>\n"
        "       <dst>8613800138000</dst>\n"
        "       <nice_billsec>30.0</nice_billsec>\n"
        "       <provider_id>0</provider_id>\n"
        "       <reason>no_rate</reason>\n"
        "       <server_id>1</server_id>\n"
        "       <src>37052000201</src>\n"
        "       <user>John Smith &amp; Co</user>\n"
        "       <user_id>2</user_id>\n"
        "     </call>\n"
        "     <call>\n"
        "       <call_id>rj-&lt;x&gt;</call_id>\n"
        "       <calldate2>2026-11-20 10:01:00</calldate2>\n"
        "       <clid>1</clid>\n"
        "       <detail>user 99 is not known</detail>\n"
        "       <device_id>12</device_id>\n"
        "       <did>370520</did>\n"
        "       <dst>2</dst>\n"
        "       <nice_billsec>0.0</nice_billsec>\n"
        "       <provider_id>5</provider_id>\n"
        "       <reason>unknown_user</reason>\n"
        "       <server_id>1</server_id>\n"
        "       <src>1</src>\n"
        "       <user></user>\n"
        "       <user_id>99</user_id>\n"
        "     </call>\n"
        "   </calls>\n"
        " </calls_stat>\n"
        "</page>\n")
    ET.fromstring(answer)  # noqa: S314 - our own output
    assert reader.asked == [RejectionFilter(0, 253_402_128_000, None)]


def test_the_accountant_reads_them_in_its_time_zone_with_the_filters() -> None:
    reader = FakeReader([])
    answer = ask({"u": "acc", "period_start": "1795132800", "period_end": "1795219199",
                  "s_reason": "NO_RATE"}, reader)
    assert (
        " <userid>7</userid>\n <username>acc</username>\n <total_calls>0</total_calls>\n"
        " <calls_stat>\n   <period>\n"
        "     <period_start>2026-11-20 02:00:00</period_start>\n"
        "     <period_end>2026-11-21 01:59:59</period_end>\n"
        "   </period>\n   <show_reason>no_rate</show_reason>\n   <calls></calls>\n"
        " </calls_stat>\n</page>\n") in answer
    assert reader.asked == [RejectionFilter(1795132800, 1795219199, "no_rate")]


@pytest.mark.parametrize("u", ["john", "res"])
def test_users_and_resellers_are_not_authorized(u: str) -> None:
    reader = FakeReader()
    assert ask({"u": u}, reader) == error("You are not authorized to use this functionality")
    assert reader.asked == []


@pytest.mark.parametrize(("params", "refused"), [
    ({"period_start": "x"}, "period_start"), ({"period_start": "-1"}, "period_start"),
    ({"period_end": "253402128001"}, "period_end"), ({"period_end": "\uff11\uff12"}, "period_end"),
    ({"s_reason": "late"}, "s_reason"), ({"period_start": "x", "s_reason": "x"}, "period_start"),
])
def test_bad_parameters(params: dict[str, str], refused: str) -> None:
    assert ask({"u": "admin", **params}) == error(f"Invalid parameter: {refused}")


def test_the_access_rules_come_first() -> None:
    app = create_app(Settings(api_secret=SECRET), reader=FakeReader())
    with TestClient(app) as client:
        assert client.post(URL, data={"u": "admin", "s_reason": "no_rate",
                                      "hash": mor_hash([], SECRET)}).text == error(
            "Incorrect hash")
        assert client.post(URL, data={"u": "nobody", "hash": mor_hash([], SECRET)}).text == (
            error("Access Denied"))
        assert client.get(URL, params={"u": "admin"}).text == error(
            "GET Requests are disabled")
    assert ask({"u": "admin"}, allow_api=False) == error("API Requests are disabled")
