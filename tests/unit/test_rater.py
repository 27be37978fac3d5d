"""Rating a whole call: every price side, currency, tax and rejections."""

from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from cdrflow.demo_data import account_events, tariff_events
from rating.call import Call
from rating.cdr import Cdr
from rating.price import Piece
from rating.rater import (
    NO_EXCHANGE_RATE,
    NO_RATE,
    NO_TARIFF,
    UNKNOWN_DID,
    UNKNOWN_PROVIDER,
    UNKNOWN_USER,
    Rejection,
    pieces_json,
    rate_call,
)
from rating.reference import ACCOUNT_SCHEMA, ReferenceData
from rating.tariff_events import TARIFF_SCHEMA

CALL = Call("c-1", 1_700_000_000_000, 1_700_000_005_000, 1_700_000_025_400, True, 2, 10, 1,
            "37052000201", "37061234567", "37052000201", "SIP/201-0001", "1700000000.000000",
            16, 20, 25)


def reference(*extra: dict[str, object]) -> ReferenceData:
    data = ReferenceData()
    for event in [*account_events(), *tariff_events(), *extra]:
        data.apply(event)
    return data


def rate(call: Call, *extra: dict[str, object]) -> Cdr | Rejection:
    return rate_call(call, reference(*extra))


def cdr(call: Call, *extra: dict[str, object]) -> Cdr:
    result = rate(call, *extra)
    assert isinstance(result, Cdr), result
    return result


def test_an_answered_call_is_priced_with_its_longest_prefix() -> None:
    # 3706 Lithuania MOB, 0.25/min, increment 1: 20 s -> 0.25 x 20/60 = 0.083333
    assert cdr(CALL) == Cdr(
        call_id="c-1", version=1, start_ms=1_700_000_000_000, answer_ms=1_700_000_005_000,
        end_ms=1_700_000_025_400, user_id=2, device_id=10, server_id=1,
        uniqueid="1700000000.000000", channel="SIP/201-0001", src="37052000201",
        dst="37061234567", clid="37052000201", disposition="ANSWERED", hangup_cause=16,
        duration=25, billsec=20, user_billsec=20, prefix="3706", destination="Lithuania MOB",
        tariff_id=1, tariff_version=1, currency="USD", user_rate=Decimal("0.25"),
        user_price=Decimal("0.083333"), profit=Decimal("0.083333"),
        tariff_currency="USD", exchange_rate=Decimal("1.0000000000"),
        user_price_with_tax=Decimal("0.083333"),
        rate_pieces='[{"tier":0,"kind":"minute","start_ms":1700000005000,"seconds":20,'
                    '"price":"0.25","window":"all 00:00:00-24:00:00",'
                    '"amount":"0.08333333333333333333333333333"}]',
    )


def test_minimal_time_and_connection_fee_from_the_demo_tariff() -> None:
    # 491 Germany MOB: 0.22/min, min time 30: 10 s bills 30 s -> 0.11
    de = cdr(replace(CALL, dst="4915112345678", billsec=10))
    assert (de.prefix, de.user_billsec, de.user_price) == ("491", 30, Decimal("0.110000"))
    # 447 UK MOB: 0.02 + 0.18 x 61/60 = 0.203
    uk = cdr(replace(CALL, dst="447700900123", billsec=61, duration=70))
    assert (uk.prefix, uk.user_billsec, uk.user_price) == ("447", 61, Decimal("0.203000"))


def test_the_provider_side_and_profit() -> None:
    # Carrier A buys 3706 at 0.12/min: 0.12 x 20/60 = 0.04; profit 0.083333 - 0.04
    found = cdr(replace(CALL, provider_id=5, provider_name="Carrier A"))
    assert (found.provider_rate, found.provider_price, found.profit) == (
        Decimal("0.12"), Decimal("0.040000"), Decimal("0.043333"))


def test_an_unknown_provider_is_a_rejection() -> None:
    found = rate(replace(CALL, provider_id=9))
    assert found == Rejection("c-1", UNKNOWN_PROVIDER, "provider 9 is not known")


def test_the_reseller_side() -> None:
    # user 7 belongs to reseller 6, whose own tariff (2, Carrier A's prices) is what the
    # reseller pays: 0.12 x 20/60 = 0.04; the user pays the retail 0.083333
    reseller = {**account_events()[1], "user_id": 6, "username": "res", "role": "reseller",
                "tariff_id": 2}
    user = {**account_events()[1], "user_id": 7, "username": "sub", "owner_id": 6}
    desk = {"schema": ACCOUNT_SCHEMA, "type": "device_created", "device_id": 70, "user_id": 7,
            "device_type": "SIP", "name": "sub-desk", "extension": "701"}
    found = cdr(replace(CALL, user_id=7, device_id=70), reseller, user, desk)
    assert (found.reseller_id, found.reseller_rate, found.reseller_price, found.user_price) == (
        6, Decimal("0.12"), Decimal("0.040000"), Decimal("0.083333"))


EUR_TARIFF = {"schema": TARIFF_SCHEMA, "type": "tariff_published", "tariff_id": 3,
              "version": 1, "name": "EUR retail", "currency": "EUR", "effective_from_ms": 0,
              "rates": [{"prefix": "3706", "destination": "Lithuania MOB", "rate": "0.30"}]}
EUR_RATE = {"schema": TARIFF_SCHEMA, "type": "exchange_rate_set", "currency": "EUR",
            "rate": "0.8", "effective_from_ms": 0}


def test_prices_are_shown_in_the_users_currency_with_tax() -> None:
    # tariff in EUR: 0.30 x 20/60 = 0.10 EUR; 1 USD = 0.8 EUR, so 0.10 EUR = 0.125 USD;
    # 21 % tax: 0.125 x 1.21 = 0.15125
    user = {**account_events()[1], "tariff_id": 3, "tax_percent": "21"}
    found = cdr(CALL, EUR_TARIFF, EUR_RATE, user)
    assert (found.currency, found.tariff_currency, found.exchange_rate) == (
        "USD", "EUR", Decimal("1.2500000000"))
    assert (found.user_rate, found.user_price, found.user_price_with_tax) == (
        Decimal("0.375000"), Decimal("0.125000"), Decimal("0.151250"))
    assert found.tax_percent == Decimal("21")


def test_a_missing_exchange_rate_is_a_rejection() -> None:
    user = {**account_events()[1], "tariff_id": 3}
    found = rate(CALL, EUR_TARIFF, user)
    assert isinstance(found, Rejection) and found.reason == NO_EXCHANGE_RATE


def test_unanswered_calls_cost_nothing_even_without_a_rate() -> None:
    busy = cdr(replace(CALL, answer_ms=0, billsec=0, hangup_cause=17, dst="999123"))
    assert (busy.disposition, busy.prefix, busy.user_price, busy.rate_pieces) == (
        "BUSY", "", Decimal("0"), "[]")


def test_unrateable_calls_are_rejections_with_a_reason() -> None:
    assert rate(replace(CALL, user_id=99)) == Rejection("c-1", UNKNOWN_USER,
                                                         "user 99 is not known")
    assert rate(replace(CALL, dst="999123")) == Rejection(
        "c-1", NO_RATE, "tariff 1 v1 of user 2 has no rate for 999123")
    orphan = {**account_events()[1], "tariff_id": 42}
    assert rate(CALL, orphan) == Rejection(
        "c-1", NO_TARIFF, "tariff 42 of user 2 is not in force at 1700000000000")


def test_the_version_in_force_at_the_call_start_prices_it() -> None:
    # version 2 (0.5/min) starts one second after the call: the call keeps version 1
    v2 = {**EUR_TARIFF, "tariff_id": 1, "version": 2, "currency": "USD",
          "effective_from_ms": CALL.start_ms + 1000,
          "rates": [{"prefix": "3706", "destination": "Lithuania MOB", "rate": "0.5"}]}
    assert (cdr(CALL, v2).tariff_version, cdr(CALL, v2).user_price) == (1, Decimal("0.083333"))
    later = replace(CALL, start_ms=CALL.start_ms + 1000)
    assert (cdr(later, v2).tariff_version, cdr(later, v2).user_price) == (
        2, Decimal("0.166667"))


def test_a_tariff_in_parts_is_usable_only_once_published() -> None:
    header = {"schema": TARIFF_SCHEMA, "type": "tariff_version_started", "tariff_id": 1,
              "version": 3, "name": "big", "currency": "USD", "effective_from_ms": 0}
    part = {"schema": TARIFF_SCHEMA, "type": "tariff_rates_added", "tariff_id": 1,
            "version": 3, "rates": [{"prefix": "370", "destination": "Lithuania", "rate": "6"}]}
    done = {"schema": TARIFF_SCHEMA, "type": "tariff_version_published", "tariff_id": 1,
            "version": 3, "rate_count": 1}
    assert cdr(CALL, header, part).tariff_version == 1
    published = cdr(CALL, header, part, done)
    # 6/min x 20/60 = 2.0, prefix 370 (version 3 has no 3706)
    assert (published.tariff_version, published.prefix, published.user_price) == (
        3, "370", Decimal("2.000000"))


def test_rating_twice_gives_the_same_cdr() -> None:
    assert rate(CALL) == rate(CALL)


def test_cdr_round_trips_through_its_json_form() -> None:
    found = cdr(CALL)
    assert Cdr.from_dict(orjson.loads(orjson.dumps(found.to_dict()))) == found
    assert found.to_dict()["user_price"] == "0.083333"


def test_account_schema_constant() -> None:
    assert account_events()[0]["schema"] == ACCOUNT_SCHEMA


def did_created(did: str, owner: int, incoming: int = 0, owner_pays: int = 0,
                provider: int = 0) -> dict[str, object]:
    return {"schema": ACCOUNT_SCHEMA, "type": "did_created", "did": did, "user_id": owner,
            "incoming_tariff_id": incoming, "owner_tariff_id": owner_pays,
            "provider_tariff_id": provider}


def test_a_call_to_a_did_prices_its_incoming_and_owner_sides() -> None:
    # John calls Ann's DID 37052000999 for 20 s. Retail 370 at 0.05/min: 0.05 x 20/60 =
    # 0.0166667 -> 0.016667. The DID's incoming and owner tariffs are tariff 2 (370 at
    # 0.02/min): 0.02 x 20/60 = 0.0066667 -> 0.006667 each.
    # profit = 0.016667 + 0.006667 + 0.006667 = 0.030001
    call = replace(CALL, dst="37052000999", did="37052000999")
    found = cdr(call, did_created("37052000999", 3, incoming=2, owner_pays=2))
    assert (found.did, found.user_price, found.did_inc_price, found.did_price,
            found.did_prov_price, found.profit) == (
        "37052000999", Decimal("0.016667"), Decimal("0.006667"), Decimal("0.006667"),
        Decimal("0"), Decimal("0.030001"))


DID_TARIFF = {"schema": TARIFF_SCHEMA, "type": "tariff_published", "tariff_id": 4,
              "version": 1, "name": "DID prices", "currency": "USD", "effective_from_ms": 0,
              "rates": [{"prefix": "999", "destination": "DID range", "rate": "0.01"}]}


def test_a_did_call_needs_no_retail_rate() -> None:
    # an outside call to DID 999100 for 60 s: no retail rate for 999 (user price 0, not a
    # rejection); the owner pays 0.01 x 60/60 = 0.01; the DID's provider costs 0.01 too
    call = replace(CALL, dst="999100", did="999100", billsec=60, duration=65)
    found = cdr(call, DID_TARIFF, did_created("999100", 2, owner_pays=4, provider=4))
    assert (found.user_price, found.did_price, found.did_prov_price, found.profit) == (
        Decimal("0"), Decimal("0.010000"), Decimal("0.010000"), Decimal("0.000000"))


def test_an_unknown_did_is_a_rejection() -> None:
    assert rate(replace(CALL, did="12345")) == Rejection("c-1", UNKNOWN_DID,
                                                         "DID 12345 is not known")


@given(st.sampled_from(["37061234567", "37052000201", "447700900123", "4915112345678",
                        "12125551234", "33612345678", "999123"]),
       st.integers(0, 7_200), st.booleans(), st.integers(1_700_000_000_000, 1_800_000_000_000))
def test_rating_is_deterministic_and_rating_twice_changes_nothing(
        dst: str, billsec: int, answered: bool, start_ms: int) -> None:
    call = replace(CALL, dst=dst, start_ms=start_ms, answer_ms=start_ms if answered else 0,
                   end_ms=start_ms + billsec * 1000, billsec=billsec if answered else 0,
                   duration=billsec, hangup_cause=16 if answered else 19)
    data = reference()
    first = rate_call(call, data)
    assert rate_call(call, data) == first == rate_call(call, reference())
    if isinstance(first, Cdr):
        assert first.user_price >= 0 and first.user_price_with_tax >= first.user_price


@given(st.lists(st.tuples(
    st.integers(0, 5), st.sampled_from(["minute", "event"]), st.integers(0, 2**62),
    st.integers(0, 10**6), st.decimals(0, 10**6, allow_nan=False, allow_infinity=False),
    st.sampled_from(["all 00:00:00-24:00:00", "work 08:00:00-18:00:00", "free 00:00:00-24:00:00"]),
    st.decimals(0, 10**6, allow_nan=False, allow_infinity=False)), max_size=4))
def test_pieces_are_written_as_orjson_writes_them(pieces: list[tuple[Any, ...]]) -> None:
    written = pieces_json(tuple(Piece(*p) for p in pieces))
    assert written == orjson.dumps([
        {"tier": t, "kind": k, "start_ms": s, "seconds": n, "price": str(p), "window": w,
         "amount": str(a)} for t, k, s, n, p, w, a in pieces]).decode()
