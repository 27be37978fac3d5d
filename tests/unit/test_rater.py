from dataclasses import replace
from decimal import Decimal

from cdrflow.demo_data import account_events, tariff_event
from rating.call import Call
from rating.cdr import Cdr
from rating.rater import NO_RATE, NO_TARIFF, UNKNOWN_USER, Rejection, rate_call
from rating.reference import ReferenceData

CALL = Call("c-1", 1_700_000_000_000, 1_700_000_005_000, 1_700_000_025_400, True, 2, 10, 1,
            "37052000201", "37061234567", "37052000201", "SIP/201-0001", "1700000000.000000",
            16, 20, 25)


def reference() -> ReferenceData:
    data = ReferenceData()
    for event in [*account_events(), tariff_event()]:
        data.apply(event)
    return data


def rate(call: Call) -> Cdr | Rejection:
    data = reference()
    return rate_call(call, data.accounts.get(call.user_id), data.tariffs)


def test_an_answered_call_is_priced_with_its_longest_prefix() -> None:
    # 3706 Lithuania MOB, 0.25/min, increment 1: 20 s -> 0.25 x 20/60 = 0.083333
    assert rate(CALL) == Cdr(
        call_id="c-1", version=1, start_ms=1_700_000_000_000, answer_ms=1_700_000_005_000,
        end_ms=1_700_000_025_400, user_id=2, device_id=10, server_id=1,
        uniqueid="1700000000.000000", channel="SIP/201-0001", src="37052000201",
        dst="37061234567", clid="37052000201", disposition="ANSWERED", hangup_cause=16,
        duration=25, billsec=20, user_billsec=20, prefix="3706", destination="Lithuania MOB",
        tariff_id=1, tariff_version=1, currency="USD", user_rate=Decimal("0.25"),
        user_price=Decimal("0.083333"), profit=Decimal("0.083333"),
    )


def test_minimal_time_and_connection_fee_from_the_demo_tariff() -> None:
    # 491 Germany MOB: 0.22/min, min time 30: 10 s bills 30 s -> 0.11
    de = rate(replace(CALL, dst="4915112345678", billsec=10))
    assert isinstance(de, Cdr)
    assert (de.prefix, de.user_billsec, de.user_price) == ("491", 30, Decimal("0.110000"))
    # 447 UK MOB: 0.02 + 0.18 x 61/60 = 0.203
    uk = rate(replace(CALL, dst="447700900123", billsec=61, duration=70))
    assert isinstance(uk, Cdr)
    assert (uk.prefix, uk.user_billsec, uk.user_price) == ("447", 61, Decimal("0.203000"))


def test_unanswered_calls_cost_nothing_even_without_a_rate() -> None:
    busy = rate(replace(CALL, answer_ms=0, billsec=0, hangup_cause=17, dst="999123"))
    assert isinstance(busy, Cdr)
    assert (busy.disposition, busy.prefix, busy.user_price) == ("BUSY", "", Decimal("0.000000"))


def test_unrateable_calls_are_rejections_with_a_reason() -> None:
    unknown = rate(replace(CALL, user_id=99))
    assert isinstance(unknown, Rejection) and unknown.reason == UNKNOWN_USER
    no_rate = rate(replace(CALL, dst="999123"))
    assert isinstance(no_rate, Rejection) and no_rate.reason == NO_RATE
    assert no_rate.detail == "tariff 1 v1 has no rate for 999123"
    data = reference()
    data.tariffs = type(data.tariffs)()
    missing = rate_call(CALL, data.accounts[2], data.tariffs)
    assert isinstance(missing, Rejection) and missing.reason == NO_TARIFF


def test_rating_twice_gives_the_same_cdr() -> None:
    assert rate(CALL) == rate(CALL)


def test_cdr_round_trips_through_its_json_form() -> None:
    cdr = rate(CALL)
    assert isinstance(cdr, Cdr)
    assert Cdr.from_dict(cdr.to_dict()) == cdr
    assert cdr.to_dict()["user_price"] == "0.083333"
