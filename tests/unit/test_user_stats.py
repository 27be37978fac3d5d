"""The Detailed statistics page's rendering and figures."""

from __future__ import annotations

from datetime import date

import pytest

from api.user_stats import Main, minutes, percent, render
from projections.user_stats import DayStats, DispositionCounts, Totals


@pytest.mark.parametrize(("seconds", "calls", "shown"), [
    (90, 1, "1.5"), (100, 1, "1.67"), (0, 1, "0.0"), (60, 1, "1.0"), (180, 2, "1.5"),
    (1, 1, "0.02"), (90, 0, "0.0"), (3, 10, "0.01"),
])
def test_minutes(seconds: int, calls: int, shown: str) -> None:
    assert minutes(seconds, calls) == shown


@pytest.mark.parametrize(("calls", "answered", "shown"), [
    (0, 0, 0), (1, 1, 100), (5, 2, 40), (7, 3, 43), (8, 1, 13), (3, 2, 67), (200, 1, 1),
])
def test_percent_of_answered_calls(calls: int, answered: int, shown: int) -> None:
    assert percent(Totals(calls, answered)) == shown


def test_the_page_in_the_specs_order() -> None:
    days = [DayStats(date(2008, 3, 11), 1, 90, 1), DayStats(date(2008, 3, 10), 2, 90, 1)]
    page = render(1, (date(2008, 3, 10), date(2008, 3, 11)), Main(0, 50, 3),
                  DispositionCounts(0, 1, 0, 0), DispositionCounts(1, 2, 3, 4), days)
    assert page == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<page>\n <pagename>Detailed statistics</pagename>\n <language>en</language>\n"
        " <userid>1</userid>\n <start_date>2008-03-10</start_date>\n"
        " <end_date>2008-03-11</end_date>\n <details>\n  <main_details>\n"
        "   <todays_normative>0</todays_normative>\n"
        "   <months_normative>50</months_normative>\n   <new_calls>3</new_calls>\n"
        "  </main_details>\n  <calls>\n"
        "   <incoming>\n    <answered>0</answered>\n    <no_answer>1</no_answer>\n"
        "    <busy>0</busy>\n    <failed>0</failed>\n   </incoming>\n"
        "   <outgoing>\n    <answered>1</answered>\n    <no_answer>2</no_answer>\n"
        "    <busy>3</busy>\n    <failed>4</failed>\n   </outgoing>\n"
        "  </calls>\n  <detailed_by_date>\n"
        "   <call_by_date>\n    <date>2008-03-11</date>\n    <calls_count>1</calls_count>\n"
        "    <duration>1.5</duration>\n    <avg_time>1.5</avg_time>\n"
        "    <calls_normative>100</calls_normative>\n   </call_by_date>\n"
        "   <call_by_date>\n    <date>2008-03-10</date>\n    <calls_count>2</calls_count>\n"
        "    <duration>1.5</duration>\n    <avg_time>1.5</avg_time>\n"
        "    <calls_normative>50</calls_normative>\n   </call_by_date>\n"
        "  </detailed_by_date>\n </details>\n</page>\n"
    )


def test_no_calls_leaves_detailed_by_date_empty() -> None:
    page = render(1, (date(2008, 3, 10), date(2008, 3, 10)), Main(0, 0, 0),
                  DispositionCounts(), DispositionCounts(), [])
    assert "  </calls>\n  <detailed_by_date></detailed_by_date>\n </details>\n" in page
