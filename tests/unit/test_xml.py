from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.xml import element, error_document, escape, moment, money, seconds


def parse(document: str | bytes) -> ET.Element:
    """Parse our own output (trusted): well-formedness is what the tests check."""
    return ET.fromstring(document)  # noqa: S314


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        pytest.param("plain 123", "plain 123", id="plain"),
        pytest.param("a & b", "a &amp; b", id="amp"),
        pytest.param("<tag>", "&lt;tag&gt;", id="angle"),
        pytest.param('"quoted"', "&quot;quoted&quot;", id="quote"),
        pytest.param("it's", "it's", id="apostrophe-kept"),
        pytest.param("&amp;", "&amp;amp;", id="no-double-unescape"),
        pytest.param("a\x00b\x01c\x08d\x0be\x0cf\x1fg", "abcdefg", id="controls-stripped"),
        pytest.param("tab\there\nlf\rcr", "tab\there\nlf\rcr", id="tab-lf-cr-kept"),
        pytest.param("\ufffe\uffff\ud800x", "x", id="non-characters-stripped"),
        pytest.param("Šiauliai ąčę 日本", "Šiauliai ąčę 日本", id="unicode-kept"),
        pytest.param("", "", id="empty"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


def test_escape_accepts_bytes_and_numbers() -> None:
    assert escape(b"caf\xc3\xa9 \xff<") == "café \ufffd&lt;"
    assert escape(42) == "42"


@given(st.text())
def test_escaped_text_round_trips_through_an_xml_parser(text: str) -> None:
    body = f"<?xml version='1.0' encoding='UTF-8'?><x a=\"{escape(text)}\">{escape(text)}</x>"
    root = parse(body.encode("utf-8"))
    legal = "".join(
        ch
        for ch in text
        if ch in "\t\n\r"
        or ("\x20" <= ch <= "\ud7ff")
        or ("\ue000" <= ch <= "\ufffd")
        or ch > "\uffff"
    )
    assert (root.text or "") == legal.replace("\r\n", "\n").replace("\r", "\n")


def test_element_and_error_document() -> None:
    assert element("user", "") == "<user></user>"
    assert element("clid", '"A" <1>') == "<clid>&quot;A&quot; &lt;1&gt;</clid>"
    assert error_document("Access Denied") == (
        '<?xml version="1.0" encoding="UTF-8"?>\n<error>Access Denied</error>\n'
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2.000000", "2.0"),
        ("0.083333", "0.083333"),
        ("0", "0.0"),
        ("0.000000", "0.0"),
        ("-0", "0.0"),
        ("-1.5", "-1.5"),
        ("10", "10.0"),
        ("1E+2", "100.0"),
        ("1.50", "1.5"),
        ("0.000001", "0.000001"),
        ("1E-7", "0.0000001"),
        ("123456789012.123456", "123456789012.123456"),
        ("-0.100", "-0.1"),
    ],
)
def test_money(value: str, text: str) -> None:
    assert money(Decimal(value)) == text


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_money_refuses_non_finite(value: str) -> None:
    with pytest.raises(ValueError):
        money(Decimal(value))


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_money_is_exact_and_never_exponent(value: Decimal) -> None:
    text = money(value)
    assert "E" not in text and "e" not in text
    assert "." in text and not text.endswith(".")
    assert Decimal(text) == value


@pytest.mark.parametrize(("billsec", "text"), [(0, "0.0"), (20, "20.0"), (3600, "3600.0")])
def test_seconds(billsec: int, text: str) -> None:
    assert seconds(billsec) == text


def test_moment_in_a_time_zone() -> None:
    when = datetime(2009, 1, 1, 22, 0, 1, tzinfo=UTC)
    assert moment(when, UTC) == "2009-01-01 22:00:01"
    assert moment(when, ZoneInfo("Europe/Vilnius")) == "2009-01-02 00:00:01"
    assert moment(when, timezone(timedelta(hours=-5))) == "2009-01-01 17:00:01"
    assert moment(datetime(2009, 1, 1, 22, 0, 1), UTC) == "2009-01-01 22:00:01"
