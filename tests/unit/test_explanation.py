from dataclasses import replace

from cdrflow.demo_data import account_events, tariff_events
from rating.call import Call
from rating.explanation import explain
from rating.rater import rate_call
from rating.reference import ReferenceData
from rating.tariff_events import TARIFF_SCHEMA

# Friday 2026-11-20 07:59:00 in Vilnius (05:59:00 UTC), answered at once, 240 s
START = 1_795_154_340_000
CALL = Call("c-7", START, START, START + 240_000, True, 2, 10, 1, "37052000201",
            "37061234567", "37052000201", "SIP/201-7", "7", 16, 240, 240, 5, "Carrier A")
PEAK_TARIFF = {
    "schema": TARIFF_SCHEMA, "type": "tariff_published", "tariff_id": 1, "version": 2,
    "name": "Peak retail", "currency": "USD", "effective_from_ms": 1_790_000_000_000,
    "timezone": "Europe/Vilnius",
    "rates": [
        {"prefix": "3706", "destination": "Lithuania MOB", "direction": "Lithuania",
         "kind": "mobile", "rate": "0.12", "days": "work", "start_time": "08:00:00",
         "end_time": "18:00:00"},
        {"prefix": "3706", "destination": "Lithuania MOB", "direction": "Lithuania",
         "kind": "mobile", "rate": "0.06"},
        {"prefix": "370", "destination": "Lithuania", "rate": "0.05"},
    ],
}


def data() -> ReferenceData:
    reference = ReferenceData()
    for event in [*account_events(), *tariff_events(), PEAK_TARIFF]:
        reference.apply(event)
    return reference


def test_a_call_across_peak_is_explained_piece_by_piece() -> None:
    reference = data()
    text = explain(rate_call(CALL, reference), reference, 2, CALL.dst, CALL.start_ms)
    assert text == """\
call c-7 to 37061234567 by user 2 (john), billsec 240
disposition  ANSWERED(16)
started      2026-11-20 07:59:00 EET, answered 2026-11-20 07:59:00 EET
tariff       1 'Peak retail' version 2 (USD; in force from 2026-09-21 17:13:20 EEST)
prefix       3706 Lithuania MOB (Lithuania, mobile) (longest match; also matched 370)
rate         work days 08:00:00-18:00:00: 0-∞ s at 0.12/min by 1 s
rate         every day 00:00:00-24:00:00: 0-∞ s at 0.06/min by 1 s
pieces
  1. 2026-11-20 07:59:00 +60 s at 0.06/min (all 00:00:00-24:00:00, tier 0) = 0.06
  2. 2026-11-20 08:00:00 +180 s at 0.12/min (work 08:00:00-18:00:00, tier 0) = 0.36
exact        0.42 USD
rounded      0.420000 USD (half_up, 6 decimals); billed 240 s
user price   0.420000 USD; with 0% tax 0.420000
provider     5 Carrier A: 0.480000 at 0.12/min
profit       -0.060000 USD
"""


def test_a_rejection_is_explained_by_its_reason() -> None:
    reference = data()
    call = replace(CALL, dst="999")
    assert explain(rate_call(call, reference), reference, 2, "999", START) == (
        "call c-7 to 999 by user 2 cannot be rated\n"
        "reason       no_rate\n"
        "detail       tariff 1 v2 of user 2 has no rate for 999\n")
