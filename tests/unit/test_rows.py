from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from projections.rows import CDR_COLUMNS, cdr_row
from rating.cdr import Cdr

CDR = Cdr("c-1", 1, 1_795_168_800_250, 1_795_168_805_000, 1_795_168_825_400, 2, 10, 1,
          "1795168800.250000", "SIP/201-1", "37052000201", "37061234567", "37052000201",
          "ANSWERED", 16, 25, 20, 20, "3706", "Lithuania MOB", 1, 1, "USD",
          Decimal("0.25"), Decimal("0.083333"), profit=Decimal("0.083333"))


def test_a_cdr_becomes_a_row_in_column_order() -> None:
    row = dict(zip(CDR_COLUMNS, cdr_row(CDR), strict=True))
    assert row["calldate"] == datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
    assert row["calldate_ms"] == 250
    assert (row["user_price"], row["profit"]) == (Decimal("0.083333"), Decimal("0.083333"))
    assert row["disposition"] == "ANSWERED"


@pytest.mark.parametrize(("change", "reason"), [
    ({"hangup_cause": 65_536}, "CDR field hangup_cause is out of range"),
    ({"billsec": 2**32}, "CDR field billsec is out of range"),
    ({"user_id": 2**64}, "CDR field user_id is out of range"),
    ({"start_ms": 4_294_967_295_000}, "CDR field start_ms is out of range"),
    ({"user_price": Decimal("1000000000000")}, "CDR field user_price does not fit"),
    ({"profit": Decimal("0.0000001")}, "CDR field profit does not fit"),
])
def test_values_clickhouse_would_refuse_are_refused_here(change: dict[str, object],
                                                        reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(")):
        cdr_row(replace(CDR, **change))  # type: ignore[arg-type]


@pytest.mark.parametrize(("change", "reason"), [
    ({"schema": "cdrflow.cdr/0"}, "unknown CDR schema 'cdrflow.cdr/0'"),
    ({"user_price": 0.08}, "CDR field user_price must be a decimal string"),
    ({"user_price": "lots"}, "CDR field user_price is not a number: 'lots'"),
    ({"user_price": "Infinity"}, "CDR field user_price is not finite"),
    ({"billsec": -5}, "CDR field billsec must be a non-negative integer"),
    ({"dst": 37061234567}, "CDR field dst must be a string"),
])
def test_bad_cdr_json_says_why(change: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Cdr.from_dict({**CDR.to_dict(), **change})


def test_missing_cdr_fields() -> None:
    body = CDR.to_dict()
    del body["call_id"]
    with pytest.raises(ValueError, match="CDR field call_id is missing"):
        Cdr.from_dict(body)
    optional = CDR.to_dict()
    del optional["did"]
    assert Cdr.from_dict(optional) == CDR
