"""The call list, the new calls and the main page as pure functions: parameter checks,
rendering, formats (no ClickHouse: tests/integration/test_call_list.py has the queries)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.call_list import (
    EXPORT_NAMES,
    Shown,
    _chunks,
    csv_row,
    csv_text,
    list_filter,
    new_calls_window,
    render_call_list,
    render_new_calls,
)
from api.call_list_pdf import render_call_list_pdf
from api.errors import ApiError
from api.main_page import periods, render_main_page
from api.params import Params
from api.xml import duration, hangup_word
from projections.call_stats import (
    MISSED_CONDITION,
    CallListFilter,
    ListedCall,
    MainStats,
    direction_condition,
    list_where,
)
from projections.queries import User

UTC_ZONE = ZoneInfo("UTC")
VILNIUS = ZoneInfo("Europe/Vilnius")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY_START = 1_795_132_800  # 2026-11-20 00:00:00 UTC
USER = User(2, "john", "John", "Smith & Co", "user", 0, "USD", "UTC")
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
CALL = ListedCall(datetime(2026, 11, 20, 10, 0, tzinfo=UTC), 250, "c1", 2, "370520", "3706<1>",
                  "Lithuania MOB", "ANSWERED", 3725, Decimal("0.270833"))


def params(**values: str) -> Params:
    return Params(values, tuple(values))


def refused(name: str, **values: str) -> None:
    with pytest.raises(ApiError) as caught:
        list_filter(params(**values), 2, UTC_ZONE, NOW)
    assert caught.value.message == f"Invalid parameter: {name}"


def test_defaults_are_today_in_the_users_zone() -> None:
    where, shown = list_filter(params(), 2, UTC_ZONE, NOW)
    assert where == CallListFilter(2, DAY_START, DAY_START + 86_399)
    assert shown == Shown("all", "all", "all")
    vilnius, _ = list_filter(params(), 2, VILNIUS, NOW)
    assert (vilnius.start, vilnius.end) == (DAY_START - 7200, DAY_START - 7200 + 86_399)


def test_filter_values() -> None:
    where, shown = list_filter(params(direction="Outgoing", calltype="no_answer", device="99",
                                      period_start="2026-11-01", period_end="1795168800"),
                               2, UTC_ZONE, NOW)
    assert where == CallListFilter(2, 1_793_491_200, 1_795_168_800, "outgoing", "NO ANSWER", 99)
    assert shown == Shown("99", "no answer", "outgoing")
    where, shown = list_filter(params(calltype="incoming"), 2, UTC_ZONE, NOW)
    assert (where.direction, where.disposition, shown.direction) == ("incoming", None,
                                                                     "incoming")
    where, _ = list_filter(params(direction="incoming", calltype="incoming"), 2, UTC_ZONE, NOW)
    assert where.direction == "incoming"
    where, _ = list_filter(params(call_type="busy", date_from="2026-11-19"), 2, UTC_ZONE, NOW,
                           EXPORT_NAMES)
    assert (where.start, where.disposition) == (DAY_START - 86_400, "BUSY")


def test_parameter_validation_in_order() -> None:
    refused("search_on", search_on="2", direction="x")
    refused("period_start", period_start="2026-02-30", direction="x")
    refused("period_start", period_start="yesterday")
    refused("period_end", period_end=str(10**15))
    refused("direction", direction="sideways", calltype="x")
    refused("calltype", calltype="loud", device="x")
    refused("calltype", direction="outgoing", calltype="incoming")
    refused("device", device="desk")
    refused("device", device=str(2**64))


def test_formats() -> None:
    assert duration(0) == "00:00:00"
    assert duration(3725) == "01:02:05"
    assert duration(100 * 3600 + 1) == "100:00:01"
    assert [hangup_word(d) for d in ("ANSWERED", "NO ANSWER", "BUSY", "FAILED")] == [
        "Answered", "No Answer", "Busy", "Failed"]
    assert new_calls_window(NOW) == (DAY_START - 43_200, DAY_START + 43_200)


def test_call_list_page() -> None:
    where = CallListFilter(2, DAY_START, DAY_START + 86_399)
    assert render_call_list(USER, where, Shown(), [CALL], 1, VILNIUS) == (
        f"{HEAD}<page>\n <pagename>Calls</pagename>\n <language>en</language>\n"
        " <error_msg></error_msg>\n <userid>2</userid>\n <show_device>all</show_device>\n"
        " <status>all</status>\n <direction>all</direction>\n <total_calls>1</total_calls>\n"
        " <username>John Smith &amp; Co</username>\n <currency>USD</currency>\n"
        " <aval_languages>\n  <language>en</language>\n </aval_languages>\n"
        " <calls_stat>\n  <period>\n   <period_start>2026-11-20 02:00:00</period_start>\n"
        "   <period_end>2026-11-21 01:59:59</period_end>\n  </period>\n  <calls>\n"
        "   <call>\n    <date>2026-11-20 12:00:00</date>\n"
        "    <called_from>370520</called_from>\n    <called_to>3706&lt;1&gt;</called_to>\n"
        "    <destination>Lithuania MOB</destination>\n    <duration>01:02:05</duration>\n"
        "    <hangup_cause>Answered</hangup_cause>\n    <price>0.270833</price>\n"
        "   </call>\n  </calls>\n </calls_stat>\n</page>\n"
    )
    empty = render_call_list(USER, where, Shown(), [], 0, UTC_ZONE)
    assert "<total_calls>0</total_calls>" in empty
    assert empty.endswith("  <calls></calls>\n </calls_stat>\n</page>\n")


def test_new_calls_page() -> None:
    assert render_new_calls(USER, [CALL], UTC_ZONE) == (
        f"{HEAD}<page>\n <pagename>Calls</pagename>\n <language>en</language>\n"
        " <error_msg></error_msg>\n <userid>2</userid>\n <calls_stat>\n"
        "  <total_calls>1</total_calls>\n  <calls>\n   <call>\n"
        "    <date>2026-11-20 10:00:00</date>\n    <called_from>370520</called_from>\n"
        "    <called_to>3706&lt;1&gt;</called_to>\n    <duration>01:02:05</duration>\n"
        "    <hangup_cause>Answered</hangup_cause>\n   </call>\n  </calls>\n"
        " </calls_stat>\n</page>\n"
    )
    assert "<calls></calls>" in render_new_calls(USER, [], UTC_ZONE)


def test_main_page() -> None:
    stats = MainStats(2, 8, 5, 1235, 1, 95)
    prepaid = User(2, "john", "", "", "user", 0, "EUR", "UTC", account_type="prepaid",
                   credit_limit=Decimal("50.50"))
    assert render_main_page(prepaid, stats, "100") == (
        f"{HEAD}<page>\n <pagename>Main page</pagename>\n <username>john</username>\n"
        " <userid>2</userid>\n <language>en</language>\n <stats>\n  <missed_calls>\n"
        "   <missed_today>2</missed_today>\n   <missed_total>8</missed_total>\n"
        "  </missed_calls>\n  <call_history>\n"
        "   <calls>\n    <call_counts>5</call_counts>\n    <period>Month</period>\n"
        "    <call_duration>00:20:35</call_duration>\n   </calls>\n"
        "   <calls>\n    <call_counts>1</call_counts>\n    <period>Day</period>\n"
        "    <call_duration>00:01:35</call_duration>\n   </calls>\n"
        "  </call_history>\n  <finances>\n   <account>Prepaid</account>\n"
        "   <balance>100 EUR</balance>\n   <credit>50.5</credit>\n"
        "  </finances>\n </stats>\n</page>\n"
    )


def test_periods_in_the_users_zone() -> None:
    month, day = periods(NOW, UTC_ZONE)
    assert month == (1_793_491_200, 1_796_083_200)  # 2026-11-01 .. 2026-12-01
    assert day == (DAY_START, DAY_START + 86_400)
    december, _ = periods(datetime(2026, 12, 31, 23, 0, tzinfo=UTC), VILNIUS)
    # 2027-01-01 01:00 in Vilnius: January
    assert december == (1_798_754_400, 1_801_432_800)


def test_csv() -> None:
    assert csv_text([csv_row(CALL, UTC_ZONE, "USD")]) == (
        "2026-11-20 10:00:00,370520,3706<1>,Lithuania MOB,01:02:05,Answered,0.270833,USD\r\n")
    odd = ListedCall(CALL.calldate, 0, "c2", 2, 'a,"b"', "x", "", "FAILED", 0, Decimal(0))
    assert csv_text([csv_row(odd, UTC_ZONE, "USD")]) == (
        '2026-11-20 10:00:00,"a,""b""",x,,00:00:00,Failed,0.0,USD\r\n')


def test_pdf_is_deterministic() -> None:
    rows = [csv_row(CALL, UTC_ZONE, "USD")] * 3

    def render(total: int) -> bytes:
        return render_call_list_pdf(rows, user_name="John (x)", currency="USD",
                                    period=("2026-11-20 00:00:00", "2026-11-20 23:59:59"),
                                    total=total, generated=NOW, zone=UTC_ZONE,
                                    compress=False)

    pdf = render(3)
    assert pdf.startswith(b"%PDF-") and pdf == render(3)
    assert b"Lithuania MOB" in pdf and b"0.270833" in pdf and b"3 calls" in pdf
    assert re.search(rb"first 3 of 7 calls", render(7))


def test_sql_conditions() -> None:
    assert MISSED_CONDITION == ("(did IN (SELECT did FROM dids FINAL WHERE user_id = "
                                "%(user_id)s AND user_id != 0) AND disposition != 'ANSWERED')")
    assert direction_condition("outgoing") == "user_id = %(user_id)s"
    with pytest.raises(ValueError):
        direction_condition("sideways")
    sql, values = list_where(CallListFilter(2, -5, 2**40, "incoming", "BUSY", 7))
    assert values == {"user_id": 2, "start": 0, "end": 2**32 - 1, "disposition": "BUSY",
                      "device_id": 7}
    assert "device_id = %(device_id)s" in sql and "did IN" in sql


class _Pages:
    """A context whose query pages a list of calls as call_page would."""

    def __init__(self, count: int) -> None:
        self.calls = [ListedCall(CALL.calldate, i, f"c{i}", 2, "", "", "", "ANSWERED", 0,
                                 Decimal(0)) for i in range(count)]
        self.asked: list[int] = []

    async def query(self, read: Any, where: CallListFilter, after: ListedCall | None,
                    size: int) -> list[ListedCall]:
        self.asked.append(size)
        start = 0 if after is None else self.calls.index(after) + 1
        return self.calls[start:start + size]


@pytest.mark.parametrize(("count", "limit", "expected"), [
    (0, None, 0), (3, None, 3), (5000, None, 5000), (12_001, None, 12_001),
    (12_001, 7000, 7000), (10, 10, 10),
])
def test_chunks_page_through_everything(count: int, limit: int | None, expected: int) -> None:
    pages = _Pages(count)
    where = CallListFilter(2, 0, 1)

    async def collect() -> list[ListedCall]:
        return [c async for chunk in _chunks(pages, where, limit)  # type: ignore[arg-type]
                for c in chunk]

    got = asyncio.run(collect())
    assert got == pages.calls[:expected]
    assert all(size <= 5000 for size in pages.asked)
