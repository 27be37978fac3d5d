"""The missed_call_processed event, its row, and the Missed calls page's rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.missed_calls import render
from api.xml import duration
from projections import account_tables, missed_calls
from projections.missed_calls import MissedCall
from projections.queries import User
from streams.account_events import account_event, parse_account_event
from streams.missed_call_events import PROCESSED, MissedCallMark

JOHN = User(2, "john", "John", "Smith & Co", "user", 0, "USD", "Europe/Vilnius")
VILNIUS = ZoneInfo("Europe/Vilnius")


def event(**changes: Any) -> dict[str, Any]:
    body = account_event(PROCESSED, user_id=2, call_id="c-855", processed=True,
                         at_ms=1_795_168_800_250)
    body.update(changes)
    return body


def test_a_mark_parses_and_projects_one_row() -> None:
    mark = parse_account_event(event())
    assert mark == MissedCallMark(2, "c-855", True, 1_795_168_800_250)
    assert list(account_tables.rows_of(mark, 41)) == [(
        "missed_call_marks",
        (2, "c-855", 1, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), 41))]
    unmark = parse_account_event(event(processed=False))
    assert next(iter(account_tables.rows_of(unmark, 42)))[1][2] == 0
    assert account_tables.TABLES[missed_calls.TABLE] == missed_calls.COLUMNS


@pytest.mark.parametrize(("changes", "reason"), [
    ({"processed": 1}, "processed must be true or false"),
    ({"processed": "true"}, "processed must be true or false"),
    ({"call_id": ""}, "call_id must have"),
    ({"call_id": "x" * 201}, "call_id must have"),
    ({"call_id": 855}, "call_id must be a string"),
    ({"user_id": -1}, "user_id"),
    ({"at_ms": None}, "at_ms"),
])
def test_bad_marks_are_refused_with_the_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_account_event(event(**changes))


def test_durations_are_clock_times() -> None:
    assert [duration(s) for s in (0, 36, 3599, 3600, 360_000)] == [
        "00:00:00", "00:00:36", "00:59:59", "01:00:00", "100:00:00"]


def test_the_page_in_the_specs_order_and_the_users_zone() -> None:
    calls = [
        MissedCall("855", datetime(2008, 3, 10, 3, 45, 31, tzinfo=UTC), "12129989282",
                   "<12129989282>", 36, "NO ANSWER", False),
        MissedCall("856", datetime(2008, 3, 10, 4, 0, 0, tzinfo=UTC), "1", "2", 0,
                   "FAILED", True),
    ]
    start, end = 1_205_120_491, 1_205_131_320  # 2008-03-10 03:41:31 and 06:42:00 UTC
    assert render(JOHN, start, end, calls, VILNIUS) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<page>\n <pagename>Missed calls</pagename>\n <language>en</language>\n"
        " <error_msg></error_msg>\n <userid>2</userid>\n <missed_total>2</missed_total>\n"
        " <username>John Smith &amp; Co</username>\n"
        " <aval_languages>\n  <language>en</language>\n </aval_languages>\n"
        " <calls_stat>\n  <period>\n   <period_start>2008-03-10 05:41:31</period_start>\n"
        "   <period_end>2008-03-10 08:42:00</period_end>\n  </period>\n  <calls>\n"
        "   <call>\n    <call_id>855</call_id>\n    <date>2008-03-10 05:45:31</date>\n"
        "    <called_from>12129989282</called_from>\n"
        "    <called_to>&lt;12129989282&gt;</called_to>\n    <duration>00:00:36</duration>\n"
        "    <hangup_cause>No Answer</hangup_cause>\n    <processed>0</processed>\n"
        "   </call>\n"
        "   <call>\n    <call_id>856</call_id>\n    <date>2008-03-10 06:00:00</date>\n"
        "    <called_from>1</called_from>\n    <called_to>2</called_to>\n"
        "    <duration>00:00:00</duration>\n    <hangup_cause>Failed</hangup_cause>\n"
        "    <processed>1</processed>\n   </call>\n"
        "  </calls>\n </calls_stat>\n</page>\n"
    )


def test_no_missed_calls_leaves_calls_empty() -> None:
    page = render(JOHN, 0, 86_399, [], ZoneInfo("UTC"))
    assert " <missed_total>0</missed_total>\n" in page
    assert "  </period>\n  <calls></calls>\n </calls_stat>\n" in page
