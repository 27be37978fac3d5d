"""The CSV rate list and `cdrflow tariff import` (docs/tariffs.md): rows, errors, events."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from cdrflow import cli
from rating.call import Call
from rating.cdr import Cdr
from rating.rate_list import parse_rate_list
from rating.rater import rate_call
from rating.reference import ACCOUNT_SCHEMA, ReferenceData
from rating.tariff_events import TARIFF_SCHEMA
from rating.tariff_import import (
    ImportOptions,
    built_tariff,
    import_options,
    moment_ms,
    summary,
    version_events,
    weekdays,
)

HEADER = ("prefix,destination,direction,kind,group,rate,connection_fee,increment,min_time,"
          "grace_time,daytype,start_time,end_time,tiers")
GOOD = f"""{HEADER}
370,Lithuania,Lithuania,fixed,LT,0.05,,,,,,,,
3706,Lithuania MOB,Lithuania,mobile,LT,0.12,0,1,0,,WD,08:00:00,17:59:59,
3706,Lithuania MOB,Lithuania,mobile,LT,0.06,,,,,WD,18:00:00,24:00:00,
3706,Lithuania MOB,Lithuania,mobile,LT,0.06,,,,,wd,00:00:00,07:59:59,
3706,Lithuania MOB,Lithuania,mobile,LT,0.03,,,,,FD,,,
"61","Australia, Sydney",Australia,,,,,,,5,,,,0-60@0.10/60;60-@0.05/1
7,Russia,,special,,,,,,,,,,0@0.05!;0-@0.02/1
"""
GOOD_JSON: list[dict[str, Any]] = [
    {"prefix": "370", "destination": "Lithuania", "direction": "Lithuania", "kind": "fixed",
     "group": "LT", "rate": "0.05"},
    {"prefix": "3706", "destination": "Lithuania MOB", "direction": "Lithuania",
     "kind": "mobile", "group": "LT", "rate": "0.12", "connection_fee": "0", "increment": 1,
     "min_time": 0, "days": "work", "start_time": "08:00:00", "end_time": "18:00:00"},
    {"prefix": "3706", "destination": "Lithuania MOB", "direction": "Lithuania",
     "kind": "mobile", "group": "LT", "rate": "0.06", "days": "work",
     "start_time": "18:00:00", "end_time": "24:00:00"},
    {"prefix": "3706", "destination": "Lithuania MOB", "direction": "Lithuania",
     "kind": "mobile", "group": "LT", "rate": "0.06", "days": "work",
     "start_time": "00:00:00", "end_time": "08:00:00"},
    {"prefix": "3706", "destination": "Lithuania MOB", "direction": "Lithuania",
     "kind": "mobile", "group": "LT", "rate": "0.03", "days": "free"},
    {"prefix": "61", "destination": "Australia, Sydney", "direction": "Australia",
     "grace_time": 5, "tiers": [{"start": 0, "end": 60, "price": "0.10", "increment": 60},
                                {"start": 60, "price": "0.05", "increment": 1}]},
    {"prefix": "7", "destination": "Russia", "kind": "special",
     "tiers": [{"start": 0, "price": "0.05", "kind": "event"},
               {"start": 0, "price": "0.02", "increment": 1}]},
]
# 2027-01-01 00:00:00 in Vilnius (UTC+2 in winter) is 2026-12-31 22:00:00 UTC
NEW_YEAR_VILNIUS_MS = int(datetime(2026, 12, 31, 22, tzinfo=UTC).timestamp()) * 1000


def options(**changes: Any) -> ImportOptions:
    given: dict[str, Any] = {
        "tariff_id": 1, "version": 2, "name": "Retail 2027", "currency": "USD",
        "effective_from": "2027-01-01T00:00:00", "timezone": "Europe/Vilnius",
        "holidays": "2027-02-16", "country_code": "370", "national_prefix": "8",
    }
    return import_options(**{**given, **changes})


def errors(text: str) -> list[str]:
    return [error.render("rates.csv") for error in parse_rate_list(text).errors]


def row_errors(*rows: str) -> list[str]:
    return errors("\n".join([HEADER, *rows]) + "\n")


def test_a_good_file_becomes_the_rate_json_of_the_workers() -> None:
    found = parse_rate_list(GOOD)
    assert found.errors == ()
    assert list(found.rate_json) == GOOD_JSON
    assert found.lines == (2, 3, 4, 5, 6, 7, 8)
    assert [(r.prefix, r.days, r.start_second, r.end_second) for r in found.rates][1:4] == [
        ("3706", "work", 28_800, 64_800), ("3706", "work", 64_800, 86_400),
        ("3706", "work", 0, 28_800)]


def test_the_three_kinds_of_events() -> None:
    rates = parse_rate_list(GOOD).rate_json
    key = {"schema": TARIFF_SCHEMA, "tariff_id": 1, "version": 2}
    assert version_events(options(effective_until="1830290400000"), rates) == [
        {**key, "type": "tariff_version_started", "name": "Retail 2027", "currency": "USD",
         "effective_from_ms": NEW_YEAR_VILNIUS_MS, "effective_until_ms": 1_830_290_400_000,
         "timezone": "Europe/Vilnius", "weekend": [5, 6], "holidays": ["2027-02-16"],
         "decimals": 6, "rounding": "half_up", "charge_unanswered": False,
         "number_plan": {"country_code": "370", "national_prefix": "8"}},
        {**key, "type": "tariff_rates_added", "rates": GOOD_JSON},
        {**key, "type": "tariff_version_published", "rate_count": 7},
    ]


def test_rates_are_published_2000_per_event() -> None:
    rows = [f"{1000 + n},Dest {n},,,,0.01,,,,,,,," for n in range(4_500)]
    rate_list = parse_rate_list("\n".join([HEADER, *rows]))
    assert rate_list.errors == ()
    events = version_events(options(), rate_list.rate_json)
    assert [e["type"] for e in events] == [
        "tariff_version_started", "tariff_rates_added", "tariff_rates_added",
        "tariff_rates_added", "tariff_version_published"]
    assert [len(e["rates"]) for e in events[1:4]] == [2_000, 2_000, 500]
    assert events[1]["rates"][0] == {"prefix": "1000", "destination": "Dest 0", "rate": "0.01"}
    assert events[3]["rates"][-1] == {"prefix": "5499", "destination": "Dest 4499",
                                      "rate": "0.01"}
    assert events[-1]["rate_count"] == 4_500
    assert len(built_tariff(events).rates) == 4_500


def test_the_imported_events_price_calls_like_the_worker() -> None:
    data = ReferenceData()
    data.apply({"schema": ACCOUNT_SCHEMA, "type": "user_created", "user_id": 2,
                "username": "john", "role": "user", "currency": "USD", "tariff_id": 1})
    data.apply({"schema": ACCOUNT_SCHEMA, "type": "device_created", "device_id": 10,
                "user_id": 2, "device_type": "SIP", "name": "john-desk", "extension": "201"})
    for event in version_events(options(effective_from="0"), parse_rate_list(GOOD).rate_json):
        data.apply(event)
    # Friday 2026-11-20 07:59:00 in Vilnius (05:59:00 UTC), 240 s to 8612 34567 (national
    # prefix 8 -> 3706): 60 s off-peak 0.06 x 60/60 = 0.06 + 180 s peak 0.12 x 180/60 = 0.36
    answer = int(datetime(2026, 11, 20, 5, 59, tzinfo=UTC).timestamp()) * 1000
    call = Call("c-1", answer, answer, answer + 240_000, True, 2, 10, 1, "201", "861234567",
                "201", "SIP/201", "u-1", 16, 240, 240)
    rated = rate_call(call, data)
    assert isinstance(rated, Cdr)
    assert (rated.prefix, rated.user_billsec, rated.user_price) == (
        "3706", 240, Decimal("0.420000"))
    # Australia, grace 5 s: 90 s = the 60 s block 0.10 + 0.05 x 30/60 = 0.125
    australia = rate_call(replace(call, dst="61298765432", billsec=90), data)
    assert isinstance(australia, Cdr) and australia.user_price == Decimal("0.125000")
    # Russia: event tier 0.05 + 0.02 x 30/60 = 0.06
    russia = rate_call(replace(call, dst="74951234567", billsec=30), data)
    assert isinstance(russia, Cdr) and russia.user_price == Decimal("0.060000")


def test_semicolons_a_bom_quotes_and_any_letter_case() -> None:
    text = '\ufeffPrefix;Destination;RATE;Tiers\n370;"Lithuania; fixed";0.05;\n44;UK;;"0-@0.1/1"\n'
    found = parse_rate_list(text)
    assert found.errors == ()
    assert list(found.rate_json) == [
        {"prefix": "370", "destination": "Lithuania; fixed", "rate": "0.05"},
        {"prefix": "44", "destination": "UK",
         "tiers": [{"start": 0, "price": "0.1", "increment": 1}]},
    ]


def test_the_errors_of_the_documented_example() -> None:
    text = "prefix;rate;daytype;start_time;end_time\n" + "\n".join([
        "370;0.05;;;", "3706;0,25;;;", "+3706;0.1;;;", "3705;0.1;WD;08:00:00;18:00",
        "3707;0.1;WD;00:00:00;08:00:00", "3707;0.2;WD;08:00:00;17:59:59"]) + "\n"
    assert errors(text) == [
        "rates.csv:3: column rate: not a decimal number: '0,25'",
        "rates.csv:4: column prefix: must be digits, got '+3706'",
        "rates.csv:5: column end_time: must be HH:MM:SS",
        # 08:00:00 written as a window's last second closes the window at 08:00:01
        "rates.csv:7: prefix 3707 work-day windows overlap (lines 6 and 7)",
    ]


@pytest.mark.parametrize(("row", "expected"), [
    ("3706,,,,,-0.25,,,,,,,,", "column rate: must not be negative: '-0.25'"),
    ("3706,,,,,1e-3,,,,,,,,", "column rate: not a decimal number: '1e-3'"),
    ("3706,,,,,NaN,,,,,,,,", "column rate: not a decimal number: 'NaN'"),
    ("3706,,,,,Infinity,,,,,,,,", "column rate: not a decimal number: 'Infinity'"),
    ("3706,,,,,0.1,0.0.1,,,,,,,", "column connection_fee: not a decimal number: '0.0.1'"),
    ("3706,,,,,0.1,,1.5,,,,,,", "column increment: must be a whole number of seconds, got '1.5'"),
    ("3706,,,,,0.1,,0,,,,,,", "column increment: a tier's increment must be at least 1 second"),
    ("3706,,,,,0.1,,,-5,,,,,", "column min_time: must be a whole number of seconds, got '-5'"),
    ("3706,,,,,0.1,,,,x,,,,", "column grace_time: must be a whole number of seconds, got 'x'"),
    ("3706,,,,,0.1,,,,99999999999999999999,,,,",
     "column grace_time: field grace_time must be a non-negative integer below 2**63"),
    ("3706,,,,,0.1,,,,,HD,,,", "column daytype: must be WD, FD or empty, got 'HD'"),
    ("3706,,,land,,0.1,,,,,,,,",
     "column kind: must be fixed, mobile, special or empty, got 'land'"),
    ("3706,,,,,0.1,,,,,,8:00:00,,", "column start_time: must be HH:MM:SS"),
    ("3706,,,,,0.1,,,,,,12:60:00,,",
     "column start_time: must be a time of day from 00:00:00 to 24:00:00, got '12:60:00'"),
    ("3706,,,,,0.1,,,,,,,24:00:01,",
     "column end_time: must be a time of day from 00:00:00 to 24:00:00, got '24:00:01'"),
    ("3706,,,,,0.1,,,,,,18:00:00,07:59:59,",
     "column end_time: a window needs 00:00:00 <= start < end <= 24:00:00"),
    ("3706,,,,,,,,,,,,,", "column rate: is empty: give a price per minute or tiers"),
    ("37O6,,,,,0.1,,,,,,,,", "column prefix: must be digits, got '37O6'"),
    ("3706,,,,,0.1,,,,,,,,0-@0.1/1", "column tiers: cannot be combined with rate"),
    ("3706,,,,,,0,1,,,,,,0-@0.1/1", "column tiers: cannot be combined with connection_fee, "
                                    "increment"),
    ("3706,,,,,,,,,,,,,0-60@0.1", "column tiers: tier 1 '0-60@0.1' must be "
                                  "FROM-TO@PRICE/INCREMENT or FROM@PRICE!"),
    ("3706,,,,,,,,,,,,,0-60@0.1/60;60@x!", "column tiers: tier 2 price not a decimal "
                                           "number: 'x'"),
    ("3706,,,,,,,,,,,,,0-60@-1/60", "column tiers: tier 1 price must not be negative: '-1'"),
    ("3706,,,,,,,,,,,,,60-60@0.1/1", "column tiers: tiers[0]: a tier needs 0 <= start < end"),
    ("3706,,,,,,,,,,,,,0-60@0.1/0", "column tiers: tiers[0]: a tier's increment must be at "
                                    "least 1 second"),
    ("3706,,,,,,,,,,,,,;", "column tiers: a rate needs tiers and a grace time >= 0"),
    ("3706,,,,,0.1,,,,,,,", "13 fields, but the header names 14 columns"),
], ids=["negative", "exponent", "nan", "infinity", "two-dots", "fraction-increment",
        "zero-increment", "negative-min-time", "grace-text", "huge-integer", "daytype", "kind",
        "short-time", "minute-60", "after-midnight", "end-before-start", "no-price",
        "letter-o-prefix", "tiers-and-rate", "tiers-and-wholesale", "tier-syntax", "tier-price",
        "tier-negative", "tier-empty-span", "tier-zero-increment", "no-tiers", "field-count"])
def test_each_wrong_row_is_reported_with_its_line_and_column(row: str, expected: str) -> None:
    assert row_errors("370,,,,,0.05,,,,,,,,", row) == [f"rates.csv:3: {expected}"]


def test_overlapping_windows_name_both_lines_and_every_day_windows_may_be_overridden() -> None:
    assert row_errors(
        "3706,,,,,0.06,,,,,,,,",  # every day: a work-day window may override it
        "3706,,,,,0.12,,,,,WD,08:00:00,17:59:59,",
        "3706,,,,,0.10,,,,,WD,17:00:00,19:59:59,",
        "3706,,,,,0.02,,,,,FD,,,",
        "3706,,,,,0.03,,,,,FD,12:00:00,12:59:59,",
        "3706,,,,,0.05,,,,,,00:00:00,07:59:59,",
    ) == [
        "rates.csv:4: prefix 3706 work-day windows overlap (lines 3 and 4)",
        "rates.csv:6: prefix 3706 free-day windows overlap (lines 5 and 6)",
        "rates.csv:7: prefix 3706 every-day windows overlap (lines 2 and 7)",
    ]


def test_duplicate_rows_are_reported_once_not_as_an_overlap() -> None:
    assert row_errors("370,LT,,,,0.05,,,,,,,,", "44,UK,,,,0.04,,,,,,,,",
                      "370,LT,,,,0.05,,,,,,,,") == ["rates.csv:4: duplicate of line 2"]


@pytest.mark.parametrize(("text", "expected"), [
    ("", ["rates.csv:1: empty file: the first line must name the columns"]),
    (f"{HEADER}\n", ["rates.csv:1: no rates: the file has a header only"]),
    ("prefix,rate,rte\n370,0.05,0.06\n", [
        "rates.csv:1: column rte: unknown column (known: prefix, destination, direction, "
        "kind, group, rate, connection_fee, increment, min_time, grace_time, daytype, "
        "start_time, end_time, tiers)"]),
    ("prefix,Rate,rate\n370,0.05,0.06\n",
     ["rates.csv:1: column rate: named twice (columns 2 and 3)"]),
    ("destination,rate,\nLT,0.05,\n", ["rates.csv:1: column #3: has no name",
                                       "rates.csv:1: column prefix: required column is missing"]),
    ("prefix,destination\n370,LT\n",
     ["rates.csv:1: column rate: required column is missing (or give tiers)"]),
], ids=["empty", "header-only", "unknown", "twice", "unnamed-and-no-prefix", "no-rate"])
def test_header_errors(text: str, expected: list[str]) -> None:
    assert errors(text) == expected


def test_blank_lines_are_skipped_and_line_numbers_count_physical_lines() -> None:
    text = 'prefix,destination,rate\n\n370,"Lithuania\nfixed",0.05\n,,\n44,UK,0,04\n'
    assert errors(text) == ["rates.csv:6: 4 fields, but the header names 3 columns"]


def test_moments_weekends_and_holidays() -> None:
    assert moment_ms("2027-01-01T00:00:00", "Europe/Vilnius") == NEW_YEAR_VILNIUS_MS
    assert moment_ms("2027-01-01 00:00:00+00:00", "Europe/Vilnius") == NEW_YEAR_VILNIUS_MS + (
        2 * 3_600_000)
    assert moment_ms("1798754400000", "UTC") == NEW_YEAR_VILNIUS_MS
    assert weekdays("sat,sun") == (5, 6)
    assert weekdays("Friday, SAT") == (4, 5)
    assert weekdays("") == ()
    assert options(weekend="fri,sat", holidays="2027-02-16,2027-03-11").holidays == (
        "2027-02-16", "2027-03-11")


@pytest.mark.parametrize(("changes", "message"), [
    ({"timezone": "Europe/Vilnus"}, "--timezone: unknown time zone 'Europe/Vilnus'"),
    ({"effective_from": "next monday"},
     "--effective-from: not an ISO date-time or epoch ms: 'next monday'"),
    ({"effective_until": "2026-12-31T00:00:00"},
     "--effective-until: must be after --effective-from"),
    ({"weekend": "sat,sn"}, "--weekend: not a day of the week: 'sn' (write e.g. sat,sun)"),
    ({"holidays": "2027-2-16"}, "--holidays: not a date YYYY-MM-DD: '2027-2-16'"),
    ({"country_code": "+370"}, "--country-code: must be digits, got '+370'"),
    ({"version": 0}, "--version: must be 1 or more"),
    ({"currency": "usd"}, "options: field currency must be an ISO 4217 code like USD"),
    ({"rounding": "ceiling"},
     "options: rounding must be one of half_up, half_even, up, down, truncate"),
])
def test_wrong_options(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        options(**changes)
    assert str(raised.value) == message


def test_summary() -> None:
    assert summary(options(), parse_rate_list(GOOD)) == [
        "tariff 1 version 2 'Retail 2027' (USD): 7 rates, 4 prefixes, 5 windows, "
        "4 destinations",
        "effective from 2027-01-01 00:00:00 Europe/Vilnius (2026-12-31 22:00:00 UTC, "
        "epoch ms 1798754400000)",
    ]


IMPORT = ["tariff", "import", "--tariff-id", "1", "--version", "2", "--name", "Retail 2027",
          "--effective-from", "2027-01-01T00:00:00", "--timezone", "Europe/Vilnius"]


def test_cli_dry_run_publishes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []
    monkeypatch.setattr("streams.publisher.publish", lambda *a: sent.append(a))
    (tmp_path / "rates.csv").write_text(GOOD, encoding="utf-8")
    assert cli.main([*IMPORT, str(tmp_path / "rates.csv"), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        *summary(options(holidays="", country_code="", national_prefix="0"),
                 parse_rate_list(GOOD)),
        "dry run: nothing was published"]
    assert sent == []


def test_cli_publishes_the_events_keyed_by_the_tariff_id(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, list[tuple[bytes, bytes]]]] = []

    async def publish(settings: object, topic: str, records: list[tuple[bytes, bytes]]) -> int:
        sent.append((topic, records))
        return len(records)

    async def ensure_topics(settings: object) -> list[str]:
        return []

    monkeypatch.setattr("streams.publisher.publish", publish)
    monkeypatch.setattr("streams.publisher.ensure_topics", ensure_topics)
    monkeypatch.delenv("CDRFLOW_TOPIC_PREFIX", raising=False)
    (tmp_path / "rates.csv").write_text(GOOD, encoding="utf-8")
    assert cli.main([*IMPORT, str(tmp_path / "rates.csv")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "published 3 events to tariff-events; workers use version 2 for calls that start at "
        "or after its effective moment")
    [(topic, records)] = sent
    assert topic == "tariff-events"
    assert [key for key, _ in records] == [b"1", b"1", b"1"]
    assert [orjson.loads(value) for _, value in records] == version_events(
        options(holidays="", country_code="", national_prefix="0"),
        parse_rate_list(GOOD).rate_json)


def test_cli_reports_every_error_and_publishes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []
    monkeypatch.setattr("streams.publisher.publish", lambda *a: sent.append(a))
    path = tmp_path / "rates.csv"
    path.write_text(f"{HEADER}\n370,,,,,0,05,,,,,,,,\n+44,,,,,0.04,,,,,,,,\n", encoding="utf-8")
    assert cli.main([*IMPORT, str(path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:2: 15 fields, but the header names 14 columns",
        f"{path}:3: column prefix: must be digits, got '+44'",
        "2 errors; nothing was published",
    ]
    assert sent == []


def test_cli_refuses_events_over_kafkas_message_limit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long_name = "x" * 600
    rows = [f"{1000 + n},{long_name},,,,0.01,,,,,,,," for n in range(2_001)]
    path = tmp_path / "rates.csv"
    path.write_text("\n".join([HEADER, *rows]), encoding="utf-8")
    assert cli.main([*IMPORT, str(path), "--dry-run"]) == 1
    # 2,000 rates of about 650 bytes each in the first tariff_rates_added (event 2)
    [error, total] = capsys.readouterr().err.splitlines()
    assert error.startswith(f"{path}: event 2 is ")
    assert error.endswith(" bytes, over Kafka's limit of 1000000: shorten the destination names")
    assert total == "1 error; nothing was published"
