"""The golden corpus (tests/golden/README.md): hand-worked prices of whole calls.

Every tariff goes through the CSV import (`rating.rate_list`, `rating.tariff_import`)
into the events a worker reads; every call is rated with `rating.rater.rate_call`.
"""

import csv
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rating.call import Call
from rating.cdr import Cdr
from rating.rate_list import parse_rate_list
from rating.rater import Rejection, rate_call
from rating.reference import ACCOUNT_SCHEMA, ReferenceData
from rating.tariff_events import TARIFF_SCHEMA
from rating.tariff_import import import_options, version_events

GOLDEN = Path(__file__).parents[1] / "golden"
DEVICE_BASE = 1000  # each user of reference.toml has one device, id DEVICE_BASE + user id
MONEY = ("price", "provider_price", "reseller_price", "profit", "with_tax", "exchange_rate",
         "did_inc", "did_price", "did_prov")
CDR_FIELDS = {"price": "user_price", "billed": "user_billsec", "prefix": "prefix",
              "version": "tariff_version", "provider_price": "provider_price",
              "reseller_price": "reseller_price", "profit": "profit",
              "with_tax": "user_price_with_tax", "exchange_rate": "exchange_rate",
              "disposition": "disposition", "did_inc": "did_inc_price",
              "did_price": "did_price", "did_prov": "did_prov_price"}


def epoch_ms(moment: str) -> int:
    """`2026-11-20 10:00:00 Europe/Vilnius`: a local date-time and its zone."""
    local, zone = moment.rsplit(" ", 1)
    when = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone))
    return int(when.astimezone(UTC).timestamp()) * 1000


@dataclass(frozen=True)
class Case:
    id: str
    call: Call
    expect: dict[str, str]
    why: str
    bug: str


def load_cases() -> list[Case]:
    lines = (GOLDEN / "cases.csv").read_text(encoding="utf-8").splitlines()
    rows = csv.DictReader(line for line in lines if not line.startswith("#"))
    return [_case(row) for row in rows]


def _case(row: dict[str, str]) -> Case:
    assert None not in row and row["why"], f"case {row['id']}: wrong number of fields"
    at_ms = epoch_ms(row["answer"])
    ring, billsec = int(row["ring"] or 0), int(row["billsec"])
    answered = {"yes": True, "no": False}[row["answered"]]
    call = Call(
        call_id=row["id"], start_ms=at_ms - ring * 1000, answer_ms=at_ms if answered else 0,
        end_ms=at_ms + billsec * 1000 if answered else at_ms,
        ringing=row["ringing"] == "yes", user_id=int(row["user"]),
        device_id=int(row.get("device") or DEVICE_BASE + int(row["user"])), server_id=1,
        src="201", dst=row["dst"], clid="201", channel="SIP/201", uniqueid=row["id"],
        hangup_cause=int(row["cause"] or 16), billsec=billsec, duration=ring + billsec,
        provider_id=int(row["provider"] or 0), did=row.get("did") or "")
    expect = dict(pair.split("=", 1) for pair in row["expect"].split())
    return Case(row["id"], call, expect, row["why"], row.get("bug") or "")


def load_reference() -> ReferenceData:
    setup = tomllib.loads((GOLDEN / "reference.toml").read_text(encoding="utf-8"))
    data = ReferenceData()
    for entry in setup["tariff"]:
        rate_list = parse_rate_list((GOLDEN / "tariffs" / entry["file"]).read_text("utf-8"))
        assert rate_list.errors == (), [e.render(entry["file"]) for e in rate_list.errors]
        options: dict[str, Any] = {key.replace("-", "_"): value for key, value in entry.items()
                                   if key != "file"}
        options.setdefault("name", entry["file"])
        for event in version_events(import_options(**options), rate_list.rate_json):
            data.apply(event)
    for user in setup["user"]:
        data.apply({"schema": ACCOUNT_SCHEMA, "type": "user_created", "user_id": user["id"],
                    "username": user["username"], "role": user.get("role", "user"),
                    "owner_id": user.get("owner", 0), "currency": user["currency"],
                    "tariff_id": user["tariff"], "tax_percent": user.get("tax", "0")})
    for user in setup["user"]:  # each user's one device: DEVICE_BASE + the user id
        data.apply({"schema": ACCOUNT_SCHEMA, "type": "device_created",
                    "device_id": DEVICE_BASE + user["id"], "user_id": user["id"],
                    "device_type": "SIP", "name": f"{user['username']}-desk",
                    "extension": str(200 + user["id"])})
    for provider in setup["provider"]:
        data.apply({"schema": ACCOUNT_SCHEMA, "type": "provider_created",
                    "provider_id": provider["id"], "name": provider["name"],
                    "tariff_id": provider["tariff"]})
    for rate in setup["exchange_rate"]:
        data.apply({"schema": TARIFF_SCHEMA, "type": "exchange_rate_set",
                    "currency": rate["currency"], "rate": rate["rate"],
                    "effective_from_ms": epoch_ms(rate["from"])})
    for did in setup.get("dids", []):
        data.apply({"schema": ACCOUNT_SCHEMA, "type": "did_created", "did": did["did"],
                    "user_id": did["user_id"], "incoming_tariff_id": did["incoming_tariff_id"],
                    "owner_tariff_id": did["owner_tariff_id"],
                    "provider_tariff_id": did["provider_tariff_id"]})
    return data


CASES = load_cases()


@pytest.fixture(scope="module")
def reference() -> ReferenceData:
    return load_reference()


def found(result: Cdr | Rejection, expect: dict[str, str]) -> dict[str, object]:
    """The rated call's values of the expected keys, in the cases file's terms."""
    if isinstance(result, Rejection):
        return {"reject": result.reason}
    values: dict[str, object] = {}
    for key in expect:
        value = getattr(result, CDR_FIELDS[key]) if key in CDR_FIELDS else f"no field {key}"
        values[key] = value.replace(" ", "_") if key == "disposition" else value
    return values


def expected(expect: dict[str, str]) -> dict[str, object]:
    return {key: Decimal(value) if key in MONEY else int(value) if key in ("billed", "version")
            else value for key, value in expect.items()}


@pytest.mark.parametrize("case", [
    pytest.param(case, id=case.id,
                 marks=[pytest.mark.xfail(reason=case.bug, strict=True)] if case.bug else [])
    for case in CASES])
def test_golden_case(case: Case, reference: ReferenceData) -> None:
    assert found(rate_call(case.call, reference), case.expect) == expected(case.expect), case.why


def test_the_corpus_is_large_and_every_case_is_worked_out() -> None:
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES)
    assert all(case.why for case in CASES)
    assert all("price" in case.expect or "reject" in case.expect for case in CASES)
    assert sum(1 for case in CASES if case.call.did) >= 12
