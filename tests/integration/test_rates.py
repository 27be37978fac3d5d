"""The rates pages over tariffs projected into ClickHouse by the real sink."""

from __future__ import annotations

import asyncio
import base64
import re
import zlib
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from cdrflow.demo_data import account_events
from cdrflow.settings import Settings
from rating.tariff_events import TARIFF_SCHEMA
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS, TARIFF_EVENTS
from tests.integration.support import log_in, wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
FAR = 4_000_000_000_000  # year 2096


def tariff(kind: str, **fields: Any) -> tuple[bytes, bytes]:
    key = str(fields.get("tariff_id", fields.get("currency"))).encode()
    return key, orjson.dumps({"schema": TARIFF_SCHEMA, "type": kind, **fields})


def header(version: int, effective_from_ms: int) -> tuple[bytes, bytes]:
    return tariff("tariff_version_started", tariff_id=1, version=version, name="Retail 2",
                  currency="USD", effective_from_ms=effective_from_ms)


def added(version: int, rates: list[dict[str, Any]]) -> tuple[bytes, bytes]:
    return tariff("tariff_rates_added", tariff_id=1, version=version, rates=rates)


def done(version: int, rate_count: int) -> tuple[bytes, bytes]:
    return tariff("tariff_version_published", tariff_id=1, version=version,
                  rate_count=rate_count)


def fixed(prefix: str, name: str, direction: str, rate: str, **more: Any) -> dict[str, Any]:
    return {"prefix": prefix, "destination": name, "direction": direction, "kind": "fixed",
            "rate": rate, **more}


PART_1 = [
    fixed("370", "Lithuania", "Lithuania", "0.05"),
    fixed("3705", "Lithuania Vilnius", "Lithuania", "0.07"),
    {"prefix": "3706", "destination": "Lithuania MOB", "direction": "Lithuania",
     "kind": "mobile", "rate": "0.06"},
    {"prefix": "3706", "destination": "Lithuania MOB", "direction": "Lithuania",
     "kind": "mobile", "rate": "0.12", "days": "work", "start_time": "08:00:00",
     "end_time": "18:00:00"},
]
PART_2 = [
    fixed("44", "United Kingdom", "United Kingdom", "0.04"),
    {"prefix": "447", "destination": "United Kingdom MOB", "direction": "United Kingdom",
     "kind": "mobile", "rate": "0.18", "connection_fee": "0.02"},
    fixed("61261", "Australia Canberra", "Australia", "0.12", group="Oceania"),
    fixed("61262", "Australia Canberra", "Australia", "0.12", group="Oceania"),
    {"prefix": "900", "destination": "Premium, <x> & co", "direction": "Lithuania",
     "kind": "special", "tiers": [{"start": 0, "price": "0.5", "kind": "event"},
                                  {"start": 0, "end": 60, "price": "1", "increment": 60},
                                  {"start": 60, "price": "0.5"}]},
]


def send(settings: Settings, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    asyncio.run(publish(settings, topic, records))


def rates_page(api: TestClient, query: str = "") -> str:
    return api.get(f"/tariffs/user_rates{query}").text


def expected_rates(currency: str, currencies: list[str],
                   rows: list[tuple[str, str, str, str]]) -> str:
    aval = "".join(f"  <currency>{c}</currency>\n" for c in currencies)
    rates = "".join(
        f"  <rate>\n   <ratename>{name}</ratename>\n   <rateicon></rateicon>\n"
        f"   <ratetype>{kind}</ratetype>\n   <ratecost>{cost}</ratecost>\n"
        f"   <rate_vat_cost>{vat}</rate_vat_cost>\n  </rate>\n"
        for name, kind, cost, vat in rows
    )
    return (f"{HEAD}<page>\n <pagename>Payments</pagename>\n <language>en</language>\n"
            f" <userid>2</userid>\n <currency>{currency}</currency>\n"
            f" <vat_percent>21</vat_percent>\n <aval_currencies>\n{aval} </aval_currencies>\n"
            f" <rates>\n{rates} </rates>\n</page>\n")


def test_rates_destinations_and_csv_of_the_version_in_force(sink: object, api: TestClient,
                                                            settings: Settings) -> None:
    assert "<error_msg>Please log in</error_msg>" in rates_page(api)
    log_in(api)
    wait_for(lambda: "<ratename>Lithuania MOB</ratename>" in rates_page(api), 60,
             "the demo tariff (version 1) projected")

    john = next(e for e in account_events() if e.get("username") == "john")
    send(settings, ACCOUNT_EVENTS, [(b"2", orjson.dumps(
        {**john, "type": "user_updated", "tax_percent": "21"}))])
    send(settings, TARIFF_EVENTS, [
        header(2, 1000), added(2, PART_1), added(2, PART_2), done(2, 9),
        # version 3 never completes (4 rates announced, 1 sent): it must not show
        header(3, 2000), added(3, PART_1[:1]), done(3, 4),
        # version 4 is complete but takes effect in 2096
        header(4, FAR), added(4, PART_1[:1]), done(4, 1),
        tariff("exchange_rate_set", currency="EUR", rate="0.5", effective_from_ms=0),
        tariff("exchange_rate_set", currency="GBP", rate="0.8", effective_from_ms=FAR),
    ])
    wait_for(lambda: "Australia" in rates_page(api) and "<vat_percent>21<" in rates_page(api)
             and "<currency>EUR</currency>\n </aval" in rates_page(api), 60,
             "version 2, the VAT and the exchange rate projected")

    assert rates_page(api) == expected_rates("USD", ["USD", "EUR"], [
        ("Australia", "FIX", "0.12", "0.1452"),
        ("Lithuania", "FIX", "0.07", "0.0847"),
        ("Lithuania", "MOB", "0.12", "0.1452"),
        ("Lithuania", "SPEC", "1.0", "1.21"),
        ("United Kingdom", "FIX", "0.04", "0.0484"),
        ("United Kingdom", "MOB", "0.18", "0.2178"),
    ])
    eur = expected_rates("EUR", ["USD", "EUR"], [
        ("Australia", "FIX", "0.06", "0.0726"),
        ("Lithuania", "FIX", "0.035", "0.04235"),
        ("Lithuania", "MOB", "0.06", "0.0726"),
        ("Lithuania", "SPEC", "0.5", "0.605"),
        ("United Kingdom", "FIX", "0.02", "0.0242"),
        ("United Kingdom", "MOB", "0.09", "0.1089"),
    ])
    assert rates_page(api, "?currency=EUR") == eur
    assert api.post("/tariffs/user_rates", data={"currency": "eur"}).text == eur
    assert rates_page(api, "?currency=GBP") == f"{HEAD}<error>Currency was not found</error>\n"

    assert api.get("/directions/dg_list_user_destinations/61262").text == (
        f"{HEAD}<page>\n <pagename>Destinations</pagename>\n <language>en</language>\n"
        " <groupname>Australia</groupname>\n <groupicon></groupicon>\n <directions>\n"
        "  <direction>\n   <details>Australia Canberra</details>\n   <prefix>61261</prefix>\n"
        "   <dir_code>FIX</dir_code>\n  </direction>\n"
        "  <direction>\n   <details>Australia Canberra</details>\n   <prefix>61262</prefix>\n"
        "   <dir_code>FIX</dir_code>\n  </direction>\n"
        " </directions>\n</page>\n")
    assert "<details>Premium, &lt;x&gt; &amp; co</details>" in api.get(
        "/directions/dg_list_user_destinations/900").text
    assert api.get("/directions/dg_list_user_destinations/6126").text == (
        f"{HEAD}<error>Destination group was not found</error>\n")

    exported = api.get("/tariffs/generate_personal_rates_csv/2")
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text == "\r\n".join([
        "prefix,destination,direction,kind,group,daytype,start_time,end_time,rate,"
        "rate_with_vat,connection_fee,increment,min_time,grace_time,tiers,currency",
        "370,Lithuania,Lithuania,fixed,,,00:00:00,23:59:59,0.05,0.0605,0.0,1,0,0,,USD",
        "3705,Lithuania Vilnius,Lithuania,fixed,,,00:00:00,23:59:59,0.07,0.0847,0.0,1,0,0,,USD",
        "3706,Lithuania MOB,Lithuania,mobile,,,00:00:00,23:59:59,0.06,0.0726,0.0,1,0,0,,USD",
        "3706,Lithuania MOB,Lithuania,mobile,,WD,08:00:00,17:59:59,0.12,0.1452,0.0,1,0,0,,USD",
        "44,United Kingdom,United Kingdom,fixed,,,00:00:00,23:59:59,0.04,0.0484,0.0,1,0,0,,USD",
        "447,United Kingdom MOB,United Kingdom,mobile,,,00:00:00,23:59:59,0.18,0.2178,0.02,1,0,0,"
        ",USD",
        "61261,Australia Canberra,Australia,fixed,Oceania,,00:00:00,23:59:59,0.12,0.1452,0.0,1,"
        "0,0,,USD",
        "61262,Australia Canberra,Australia,fixed,Oceania,,00:00:00,23:59:59,0.12,0.1452,0.0,1,"
        "0,0,,USD",
        '900,"Premium, <x> & co",Lithuania,special,,,00:00:00,23:59:59,1.0,1.21,0.5,60,0,0,'
        "0@0.5!;0-60@1.0/60;60-@0.5/1,USD",
        "",
    ])
    assert api.get("/tariffs/generate_personal_rates_csv/2?currency=EUR").text.splitlines()[
        1] == "370,Lithuania,Lithuania,fixed,,,00:00:00,23:59:59,0.025,0.03025,0.0,1,0,0,,EUR"
    assert api.get("/tariffs/generate_personal_rates_csv/3").text == (
        f"{HEAD}<error>User was not found</error>\n")


def test_personal_rates_pdf(sink: object, api: TestClient) -> None:
    log_in(api)
    wait_for(lambda: "\r\n3706," in api.get("/tariffs/generate_personal_rates_csv/2").text,
             60, "john's tariff projected")
    exported = api.get("/tariffs/generate_personal_rates_pdf/2")
    assert exported.headers["content-type"] == "application/pdf"
    assert exported.headers["content-disposition"] == (
        'attachment; filename="personal_rates_2.pdf"')
    assert exported.content.startswith(b"%PDF-")
    assert b"(3706) Tj" in page_streams(exported.content)  # Lithuania MOB, in every version
    assert api.get("/tariffs/generate_personal_rates_pdf/3").text == (
        f"{HEAD}<error>User was not found</error>\n")


def page_streams(pdf: bytes) -> bytes:
    """reportlab's compressed streams (ASCII85, then Flate), decoded and joined: the page
    contents among them, where the table's strings are drawn as `(...) Tj`."""
    found = re.findall(rb"/ASCII85Decode /FlateDecode \] /Length \d+\s*>>\s*stream\r?\n"
                       rb"(.*?)~>\s*endstream", pdf, re.S)
    return b"".join(zlib.decompress(base64.a85decode(b"".join(s.split()))) for s in found)
