"""Re-rating past CDRs: old and new prices, unchanged calls skipped, the version bump,
rejections, the totals per currency, and reading CDRs back from their rows."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from cdrflow.demo_data import account_events, tariff_event, tariff_events
from cdrflow.rerate_command import find_user, moment, render
from cdrflow.settings import Settings
from projections.rerate_source import CdrSelection, cdr_from_row, selection_sql
from projections.rows import cdr_row
from rating.call import Call
from rating.cdr import Cdr
from rating.rater import NO_RATE, UNKNOWN_USER, Rejection, rate_call
from rating.reference import ReferenceData
from rating.rerate import CALL_FIELDS, Rerated, RerateReport, call_of, rerate

# 3706 Lithuania MOB at 0.25/min: 20 s cost 0.083333 with the demo tariff
CALL = Call("c-1", 1_700_000_000_000, 1_700_000_005_000, 1_700_000_025_400, True, 2, 10, 1,
            "37052000201", "37061234567", "37052000201", "SIP/201-0001", "1700000000.000000",
            16, 20, 25)
# version 2 of tariff 1, in force since the start like version 1: 3706 at 0.5/min and
# 447 as before; nothing else (so a call to 491 can no longer be priced)
VERSION_2: dict[str, Any] = {
    **tariff_event(1, version=2),
    "rates": [{"prefix": "3706", "destination": "Lithuania MOB", "rate": "0.5"},
              {"prefix": "447", "destination": "United Kingdom MOB", "rate": "0.18",
               "connection_fee": "0.02"}],
}


def reference(*extra: dict[str, Any]) -> ReferenceData:
    data = ReferenceData()
    for event in [*account_events(), *tariff_events(), *extra]:
        data.apply(event)
    return data


def rated(call: Call = CALL) -> Cdr:
    cdr = rate_call(call, reference())
    assert isinstance(cdr, Cdr), cdr
    return cdr


def test_a_cdr_gives_back_the_call_it_was_rated_from() -> None:
    call = replace(CALL, provider_id=5, provider_name="Carrier A")
    cdr = rated(call)
    again = call_of(cdr)
    # all but `ringing`, which only matters for an unanswered call with cause 21
    assert replace(again, ringing=call.ringing) == call
    assert rate_call(again, reference()) == cdr


def test_every_field_of_a_call_is_stored_in_its_cdr() -> None:
    assert set(CALL_FIELDS) <= {f.name for f in fields(Cdr)}
    assert set(CALL_FIELDS) | {"ringing"} == {f.name for f in fields(Call)}


def test_ringing_comes_from_the_disposition_for_cause_21() -> None:
    declined = replace(CALL, answer_ms=0, billsec=0, hangup_cause=21)
    for ringing, disposition in ((True, "BUSY"), (False, "FAILED")):
        cdr = rated(replace(declined, ringing=ringing))
        assert (cdr.disposition, call_of(cdr).ringing) == (disposition, ringing)
        assert rerate(cdr, reference()) == Rerated(cdr)


def test_the_same_reference_data_changes_nothing() -> None:
    old = rated()
    assert rerate(old, reference()) == Rerated(old)


def test_a_new_rate_gives_the_next_version_with_the_new_price() -> None:
    old = rated(replace(CALL, provider_id=5, provider_name="Carrier A"))
    again = rerate(old, reference(VERSION_2))
    assert again.rejection is None and again.new is not None
    new = again.new
    # 0.5 x 20/60 = 0.166667; Carrier A still buys at 0.12/min: 0.04
    assert (new.version, new.tariff_version, new.user_rate, new.user_price) == (
        2, 2, Decimal("0.5"), Decimal("0.166667"))
    assert (new.provider_price, new.profit) == (Decimal("0.040000"), Decimal("0.126667"))
    assert (again.old.user_price, again.new_price) == (Decimal("0.083333"), Decimal("0.166667"))
    # the call itself and the table's key columns (user, start, call id) never change
    call_fields = {f.name for f in fields(Call)} & {f.name for f in fields(Cdr)}
    assert {n: getattr(new, n) for n in call_fields} == {n: getattr(old, n) for n in call_fields}


def test_the_version_follows_the_stored_one() -> None:
    again = rerate(replace(rated(), version=7), reference(VERSION_2))
    assert again.new is not None and again.new.version == 8


def test_a_new_tariff_version_with_the_same_price_is_not_rewritten() -> None:
    old = rated(replace(CALL, dst="447700900123", billsec=61, duration=70))
    assert old.user_price == Decimal("0.203000")
    assert rerate(old, reference(VERSION_2)) == Rerated(old)


def test_a_call_that_cannot_be_priced_now_is_reported_not_rewritten() -> None:
    old = rated(replace(CALL, dst="4915112345678", billsec=10))  # 491: min time 30 s, 0.11
    again = rerate(old, reference(VERSION_2))
    assert again.new is None and again.new_price == Decimal("0.110000")
    assert again.rejection == Rejection(
        "c-1", NO_RATE, "tariff 1 v2 of user 2 has no rate for 4915112345678")
    gone = rerate(replace(old, user_id=77), reference())
    assert gone.rejection is not None and gone.rejection.reason == UNKNOWN_USER


def test_re_rating_twice_is_re_rating_once() -> None:
    data = reference(VERSION_2)
    first = rerate(rated(), data)
    assert first.new is not None
    assert rerate(first.new, data) == Rerated(first.new)


def test_the_report_counts_and_sums_per_currency() -> None:
    data = reference(VERSION_2)
    report = RerateReport()
    calls = [CALL, replace(CALL, call_id="c-2", dst="447700900123", billsec=61),
             replace(CALL, call_id="c-3", dst="4915112345678", billsec=10)]
    for call in calls:
        report.add(rerate(rated(call), data))
    usd = report.totals["USD"]
    assert (usd.examined, usd.changed, usd.unchanged, usd.failed) == (3, 1, 1, 1)
    # old 0.083333 + 0.203 + 0.11; new 0.166667 + 0.203 + 0.11 (the failed call keeps it)
    assert (usd.old_total, usd.new_total, usd.difference) == (
        Decimal("0.396333"), Decimal("0.479667"), Decimal("0.083334"))
    assert [r.call_id for r in report.rejections] == ["c-3"]
    assert (report.examined, report.changed, report.failed, list(report.totals)) == (
        3, 1, 1, ["USD"])


def test_the_report_keeps_the_first_rejections_and_counts_them_all() -> None:
    report = RerateReport(keep=2)
    old = rated()
    for _ in range(5):
        report.add(rerate(replace(old, user_id=77), reference()))
    assert (len(report.rejections), report.failed) == (2, 5)


def test_a_changed_currency_moves_the_new_price_to_that_currency() -> None:
    euro_user = {**account_events()[1], "type": "user_updated", "currency": "EUR"}
    rate = {"schema": VERSION_2["schema"], "type": "exchange_rate_set", "currency": "EUR",
            "rate": "0.5", "effective_from_ms": 0}
    report = RerateReport()
    report.add(rerate(rated(), reference(euro_user, rate)))
    usd, eur = report.totals["USD"], report.totals["EUR"]
    assert (usd.examined, usd.changed, usd.old_total, usd.new_total) == (
        1, 1, Decimal("0.083333"), Decimal(0))
    assert (eur.examined, eur.old_total, eur.new_total) == (0, Decimal(0), Decimal("0.041667"))


@given(billsec=st.integers(0, 7200), dst=st.sampled_from(
    ["37061234567", "37052000201", "447700900123", "4915112345678", "12125551234"]))
def test_re_rating_with_the_rating_data_is_a_no_op(billsec: int, dst: str) -> None:
    call = replace(CALL, dst=dst, billsec=billsec, end_ms=CALL.answer_ms + billsec * 1000,
                   duration=billsec + 5)
    old = rated(call)
    assert rerate(old, reference()) == Rerated(old)
    again = rerate(old, reference(VERSION_2))
    if again.new is not None:
        assert again.new.version == old.version + 1
        assert rerate(again.new, reference(VERSION_2)) == Rerated(again.new)


def test_a_row_reads_back_as_the_cdr_that_wrote_it() -> None:
    cdr = rated()
    row = list(cdr_row(cdr))
    row[2] = int(row[2].timestamp())  # SELECT toUInt32(calldate)
    assert cdr_from_row(tuple(row)) == cdr


def test_the_selection_sql_filters_only_what_was_asked() -> None:
    sql, params = selection_sql(CdrSelection(100, 200))
    assert "FROM cdrs FINAL WHERE calldate >= toDateTime(%(start)s) AND " \
           "calldate <= toDateTime(%(end)s) ORDER BY" in sql
    assert params == {"start": 100, "end": 200}
    sql, params = selection_sql(CdrSelection(100, 200, user_id=2, tariff_id=1))
    assert "AND user_id = %(user_id)s AND tariff_id = %(tariff_id)s" in sql
    assert params == {"start": 100, "end": 200, "user_id": 2, "tariff_id": 1}


def test_period_bounds_are_whole_days_or_moments_in_the_zone() -> None:
    utc, vilnius = ZoneInfo("UTC"), ZoneInfo("Europe/Vilnius")
    day_start = int(datetime(2026, 11, 20, tzinfo=UTC).timestamp())
    assert moment("2026-11-20", utc, last=False) == day_start
    assert moment("2026-11-20", utc, last=True) == day_start + 86_399
    assert moment("2026-11-20", vilnius, last=False) == day_start - 2 * 3600
    assert moment("2026-11-20T10:00:00", utc, last=True) == day_start + 36_000
    assert moment("2026-11-20T10:00:00+02:00", utc, last=False) == day_start + 28_800


def test_a_user_is_found_by_id_or_username() -> None:
    data = reference()
    assert (find_user(data, "2"), find_user(data, "ann"), find_user(data, "nobody")) == (
        2, 3, None)


def test_the_report_reads_as_a_table() -> None:
    data = reference(VERSION_2)
    report = RerateReport()
    for call in (CALL, replace(CALL, call_id="c-3", dst="4915112345678", billsec=10)):
        report.add(rerate(rated(call), data))
    selection = CdrSelection(1_699_920_000, 1_700_006_399, user_id=2)
    text = render(report, selection, ZoneInfo("UTC"), data, Settings(), write=False)
    assert text == (
        "what-if (testing mode): calls started 2023-11-14 00:00:00 to 2023-11-14 23:59:59 "
        "(UTC), user 2 (john), any tariff\n"
        "\n"
        "currency  examined  changed  unchanged  failed  old total  new total  difference\n"
        "USD              2        1          0       1   0.193333   0.276667    0.083334\n"
        "\n"
        "failed (not rewritten; they keep their old price):\n"
        "  c-3  no_rate: tariff 1 v2 of user 2 has no rate for 4915112345678\n"
        "\n"
        "nothing was published\n"
    )
