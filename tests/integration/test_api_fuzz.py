"""Every route of the app fuzzed with hostile parameters over the real ClickHouse (issue 6).

The routes are enumerated from the app itself, so a new endpoint is fuzzed without a
change here. Each answer must be no 5xx, no `<error>Internal error</error>` (the app's
500 in MOR clothes), no traceback, and well formed: XML for text/xml, CSV for text/csv,
a PDF for application/pdf; 404/405 the MOR error envelope; 413 only for a body over
the app's limit. Callers: anonymous, logged in (john, admin; session cookie), each with
or without `u` and a valid API hash over the route's hashed parameters, so the checks
behind the access rules are reached too. The app allows GET on the API methods (as
`CDRFLOW_ALLOW_GET_API` does), so GET goes as deep as POST.
"""

from __future__ import annotations

import csv
import importlib
import io
import pkgutil
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_from_bytes, unquote, unquote_to_bytes

import httpx2 as httpx
import orjson
import pytest
from aiokafka import ConsumerRecord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.convertors import IntegerConvertor
from starlette.routing import Match, Route
from starlette.testclient import TestClient

import api
from api import session
from api.app import MAX_BODY_SIZE, create_app
from api.catalogue import METHODS
from api.hash import NEVER_HASHED, mor_hash
from cdrflow.settings import Settings
from projections.active_calls import record_rows
from projections.callflow import DIDS_TABLE
from projections.clickhouse import connect
from projections.rows import cdr_row
from projections.writer import insert
from streams.personal_details_events import FIELDS
from tests.integration.conftest import SECRET
from tests.integration.support import Processes, log_in
from tests.integration.test_call_list import CDRS, DID, NOON

pytestmark = pytest.mark.integration

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
EXAMPLES_PER_ROUTE = 75  # about 60 s for the module on 2 cores
MAX_QUERY_VALUE = 6000  # a URL over 64 KiB is refused by the client itself (as by servers)
IDENTITIES = ("anonymous", "john", "admin")
# every parameter name the modules and docs/api.md know
KNOWN_NAMES = sorted({
    "u", "p", "hash", "s_user", "period_start", "period_end", "s_call_type", "s_device",
    "s_provider", "s_hgc", "s_destination", "s_did", "order_by", "order_desc", "only_did",
    "userid", "id", "page", "user_id", "device_id", "calltype", "call_type", "direction",
    "device", "date_from", "date_till", "search_on", "currency", "processed", "call_id",
    "fax_status", "group_by", "cli", "description", "number", "name", "src", "dst", "acc",
    "cft", "whattodo", "cf_action", "s_server", "s_country", "s_user_id", "s_dst_user_id",
    "s_dst_device", "s_destination_group", "s_status", "s_source", "deviceid",
    *FIELDS, "first_name", "last_name",
    *(name for found in pkgutil.iter_modules(api.__path__)  # every API method's hashed ones
      for name in getattr(importlib.import_module(f"api.{found.name}"), "HASHED", ())),
    *(name for method in METHODS for name in method.hashed),  # and the catalogue's
})
# values that pass each parameter's checks, so that one hostile value among them gets far
PLAUSIBLE = {
    "s_user": ["0", "2", "3"], "userid": ["2", "3"], "user_id": ["2"], "s_user_id": ["2"],
    "period_start": ["0", "1795132800"], "period_end": ["1795219199", "253402128000"],
    "date_from": ["2026-11-01"], "date_till": ["2026-11-30"], "s_call_type": ["all", "answered"],
    "calltype": ["all", "outgoing"], "call_type": ["incoming", "busy"], "direction": ["all"],
    "order_by": ["time", "dst", "u_price"], "order_desc": ["0", "1"], "only_did": ["0", "1"],
    "s_did": ["all", DID], "s_destination": ["370"], "s_device": ["all", "10"],
    "device": ["10"], "device_id": ["10", "11"], "group_by": ["destination", "provider"],
    "state": ["before_call", "busy", "no_answer"], "callflow_action": ["forward", "empty"],
    "forward_to_device": ["11"], "external_number": ["37060000000"], "cft": ["busy"],
    "whattodo": ["change_action"], "cf_action": ["forward", "voicemail"], "src": ["370600"],
    "dst": ["370601"], "acc": ["10"], "number": ["370600"], "name": ["x"],
    "cli": ["37052000"], "description": ["d"], "currency": ["USD", "EUR"], "fax_status": ["all"],
    "s_status": ["answered"], "search_on": ["1"], "processed": ["1"], "call_id": ["in2"],
    "p": ["john-demo", "admin-demo"], "s_source": ["3705%"],
}
HOSTILE = [
    "", " ", "0", "1", "2", "3", "10", "11", "-1", "-0", "+1", "01", "1.5", "1e3", "0x10",
    "1_000", "\u0661\u0662", "\uff11", str(2**63 - 1), str(2**63), str(2**64 - 1), str(2**64),
    str(-(2**63) - 1), "9" * 40, "NaN", "inf", "-inf", "all", "ALL", "answered", "no answer",
    "no_answer", "busy", "failed", "outgoing", "incoming", "time", "dst", "before_call",
    "forward", "voicemail", "change_action", "USD", "EUR", "xxx", "admin", "john", "ann",
    "1970-01-01", "1969-12-31", "0000-00-00", "9999-12-31", "9998-12-31", "2026-02-30",
    "2026-11-20", "253402128000", "253402128001", "4294967295", "4294967296",
    "'", '"', "<", ">", "&", ";", "' OR '1'='1", "'; DROP TABLE cdrs; --", "\\", "\\'",
    "%", "_", "%%", "<x>&amp;</x>", "]]>", "<!ENTITY x SYSTEM 'file:///etc/passwd'>",
    "\x00", "a\x00b", "\x01\x08\x0b\x1f\x7f", "\r\n", "\t", "\ufffe", "\uffff", "\U0001f600",
    "Europe/Vilnius", "../../etc/passwd", "{}", "[]", "null", "true",
]
# malformed or invalid UTF-8 percent escapes, sent as they are
RAW_WIRE = ["%", "%G1", "%2", "a%", "%FF%FE", "%C3%28", "%ED%A0%80", "%E2%82", "%C0%80",
            "%00", "a%00b", "+", "++", "%2B", "%25", "%26%3D"]


def wire(data: bytes) -> str:
    return quote_from_bytes(data, safe="")


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


HUGE = st.sampled_from([b"A", b"9", b"'", b"<&", b"\xff", utf8("\u00e9"), b"\x00", b"%",
                        utf8("\U0001f600")]).map(lambda unit: unit * (100_000 // len(unit)))
VALUES = st.one_of(
    st.sampled_from(HOSTILE).map(utf8),
    st.integers(-(2**80), 2**80).map(lambda n: utf8(str(n))),
    st.floats().map(lambda x: utf8(repr(x))),
    st.tuples(st.integers(0, 99_999), st.integers(0, 99), st.integers(0, 99)).map(
        lambda ymd: utf8("{:04d}-{:02d}-{:02d}".format(*ymd))),
    st.text(st.characters(min_codepoint=0), max_size=30).map(utf8),
    st.binary(max_size=16),
    HUGE,
).map(wire) | st.sampled_from(RAW_WIRE)
NAMES = (st.sampled_from(KNOWN_NAMES).map(quote)
         | st.text(st.characters(min_codepoint=0), max_size=10).map(lambda n: wire(utf8(n)))
         | st.sampled_from(["", "a[]", "u[0]", "%00", "%FF", "p%5B%5D", "+", "%3D"]))
PAIRS = st.lists(st.tuples(NAMES, VALUES, st.booleans()), max_size=8)
INT_SEGMENTS = st.sampled_from(["0", "2", "3", "10", "11", "1"]) | st.sampled_from(
    ["13", "00002", str(2**63 - 1), str(2**63), str(2**64 - 1), str(2**64), "9" * 30])
TEXT_SEGMENTS = (st.sampled_from(["370", "44", "0", "%25", "%27", "%22%3C%3E%26%3B",
                                  "%00", "%FF%FE", "%C3%28", "a%2Fb", "..", "%20"])
                 | st.text(st.characters(min_codepoint=1), min_size=1, max_size=20).map(
                     lambda s: wire(utf8(s))))


@dataclass(frozen=True)
class Attempt:
    """One request: the method, the path with its segments filled, the parameters as
    (name, value, in the body) on the wire (plausible ones first, then hostile ones), who
    asks and whether `u` and a hash go along."""

    method: str
    path: str
    pairs: list[tuple[str, str, bool]]
    identity: str
    signed: bool
    body_kind: str
    hashed: tuple[str, ...] = ()


def hashed_parameters(path: str) -> tuple[str, ...]:
    """The hashed parameters of the API method at `path`: the catalogue's declaration, or
    `HASHED` of the api module whose
    `METHOD` is the path's last segment or that is named after it (user_calls_get,
    user_calls: api.user_calls); none for the pages."""
    method = path.rsplit("/", 1)[-1]
    declared = next((m for m in METHODS if method in m.names), None)
    if declared is not None:
        return declared.hashed
    for found in pkgutil.iter_modules(api.__path__):
        if method in (found.name, f"{found.name}_get") or method == getattr(
                importlib.import_module(f"api.{found.name}"), "METHOD", None):
            return tuple(getattr(importlib.import_module(f"api.{found.name}"), "HASHED", ()))
    return ()


def fuzzed_routes() -> list[Route]:
    routes = [route for route in create_app(Settings()).routes if isinstance(route, Route)]
    return sorted(routes, key=lambda route: route.path)


ROUTES = fuzzed_routes()


def documented_paths() -> list[str]:
    """Concrete paths for every path of docs/api.md's route table (`<id>` is 2,
    optional parts both ways, the query dropped)."""
    table = DOCS.read_text().split("## Conventions")[0]
    paths: list[str] = []
    for found in re.findall(r"`(/[^`]*)`", table):
        found = found.split("?")[0]
        variants = [re.sub(r"\[([^\]]*)\]", r"\1", found), re.sub(r"\[[^\]]*\]", "", found)]
        paths += [re.sub(r"<[^>]+>", "2", variant) for variant in variants]
    return sorted(set(paths))


def test_the_routes_are_enumerated_from_the_app_and_cover_the_documented_ones() -> None:
    assert len(ROUTES) > 40
    unserved = []
    for path in documented_paths():
        scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        if not any(route.matches(scope)[0] is not Match.NONE for route in ROUTES):
            unserved.append(path)
    assert documented_paths() and unserved == []


@st.composite
def attempts(draw: st.DrawFn, route: Route) -> Attempt:
    methods = sorted((route.methods or {"GET"}) - {"HEAD"})
    segments = {name: draw(INT_SEGMENTS if isinstance(convertor, IntegerConvertor)
                           else TEXT_SEGMENTS)
                for name, convertor in route.param_convertors.items()}
    pairs = [(name, draw(st.sampled_from(values)), draw(st.booleans()))
             for name, values in PLAUSIBLE.items() if draw(st.integers(0, 3))]
    pairs += draw(PAIRS)
    if pairs and draw(st.booleans()):
        pairs.append(draw(st.sampled_from(pairs)))  # a repeated parameter, same place
    return Attempt(method=draw(st.sampled_from(methods)),
                   path=route.path_format.format(**segments), pairs=pairs,
                   identity=draw(st.sampled_from(IDENTITIES)), signed=draw(st.booleans()),
                   hashed=hashed_parameters(route.path),
                   body_kind=draw(st.sampled_from(["form", "form", "multipart", "json",
                                                   "none"])))


def build(attempt: Attempt) -> tuple[str, bytes, dict[str, str]]:
    """The URL, body and headers of an attempt; when signed, `u` and the hash of the
    values the server will read go last (so they win over fuzzed ones)."""
    post = attempt.method == "POST"
    query = [(n, v[:MAX_QUERY_VALUE]) for n, v, in_body in attempt.pairs
             if not (in_body and post)]
    body = [(n, v) for n, v, in_body in attempt.pairs if in_body and post]
    if attempt.signed:
        signer = body if post and attempt.body_kind in ("form", "multipart") else query
        signer.append(("u", "admin" if attempt.identity == "anonymous" else attempt.identity))
        seen = dict(parse_qsl("&".join(f"{n}={v}" for n, v in query), keep_blank_values=True))
        if signer is body:
            seen.update(_body_values(body, attempt.body_kind))
        values = [seen[name] for name in attempt.hashed
                  if name in seen and name not in NEVER_HASHED]
        signer.append(("hash", mor_hash(values, SECRET)))
    url = attempt.path + ("?" + "&".join(f"{n}={v}" for n, v in query) if query else "")
    if not post or attempt.body_kind == "none":
        return url, b"", {}
    if attempt.body_kind == "form":
        content = "&".join(f"{n}={v}" for n, v in body).encode("ascii")
        return url, content, {"content-type": "application/x-www-form-urlencoded"}
    if attempt.body_kind == "multipart":
        boundary = "fuzzb0undary"
        parts = b"".join(
            b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="'
            + unquote_to_bytes(n) + b'"\r\n\r\n' + unquote_to_bytes(v) + b"\r\n"
            for n, v in body)
        return url, parts + f"--{boundary}--\r\n".encode(), {
            "content-type": f"multipart/form-data; boundary={boundary}"}
    return url, b"".join(unquote_to_bytes(v) for _, v in body), {
        "content-type": "application/json"}


def _body_values(body: list[tuple[str, str]], kind: str) -> dict[str, str]:
    if kind == "form":
        return dict(parse_qsl("&".join(f"{n}={v}" for n, v in body), keep_blank_values=True))
    return {unquote(n): unquote_to_bytes(v).decode("utf-8", "replace") for n, v in body}


def problem(response: httpx.Response, sent: int) -> str | None:
    """What is wrong with an answer, or None."""
    body = response.content
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if b"Traceback (most recent call last)" in body or b'File "/' in body:
        return "a traceback in the body"
    if response.status_code == 413:
        return None if sent > MAX_BODY_SIZE else f"413 for a body of {sent} bytes"
    if kind == "text/xml":
        try:
            root = ET.fromstring(body)  # noqa: S314 - our own output
        except ET.ParseError as exc:
            return f"malformed XML: {exc}"
        if b"<error>Internal error</error>" in body:
            return "Internal error"
        if response.status_code != 200 and root.tag != "error":
            return f"HTTP {response.status_code} without the error envelope"
        return None
    if kind == "text/csv" and response.status_code == 200:
        try:
            rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
        except (UnicodeDecodeError, csv.Error) as exc:
            return f"malformed CSV: {exc}"
        return None if rows and all(len(row) == len(rows[0]) for row in rows) else "ragged CSV"
    if kind == "application/pdf" and response.status_code == 200:
        ok = body.startswith(b"%PDF-") and b"%%EOF" in body[-64:]
        return None if ok else "not a PDF"
    return f"unexpected HTTP {response.status_code} {kind!r}"


@dataclass
class Callers:
    """One client over one app (GET allowed on the API methods) and the session cookie of
    each logged-in identity, set afresh before every request (a fuzzed logout or login
    must not change who the next request is)."""

    client: TestClient
    cookies: dict[str, str]

    def request(self, identity: str, method: str, url: str, content: bytes,
                headers: dict[str, str]) -> httpx.Response:
        self.client.cookies.clear()
        if identity in self.cookies:
            self.client.cookies.set(session.COOKIE, self.cookies[identity])
        return self.client.request(method, url, content=content, headers=headers)


@pytest.fixture(scope="module")
def callers(settings: Settings, sink: Processes) -> Iterator[Callers]:
    """The demo data, a DID of john's and calls (two with hostile texts), as of NOON."""
    database = connect(settings.clickhouse)
    insert(database, DIDS_TABLE, [(DID, 2, 0, 0, 0, 1, 0)])
    hostile = [replace(CDRS[0], call_id="h1", src="<&'\"\x00\x1f>", destination="]]>&amp;"),
               replace(CDRS[3], call_id="h2", dst="\U0001f600\ufffe'; --", clid="\x7f")]
    insert(database, "cdrs", [cdr_row(c) for c in [*CDRS, *hostile]])
    live = {"call_id": "live", "status": "answered", "user_id": 2, "device_id": 10,
            "src": "37052000201", "dst": "37061234567", "prefix": "3706", "server_id": 1,
            "started_ms": int(NOON.timestamp() * 1000) - 60_000, "destination_group": "LT",
            "answered_ms": int(NOON.timestamp() * 1000) - 50_000, "direction": "Lithuania"}
    record = ConsumerRecord("active-calls", 0, 1, 0, 0, b"live", orjson.dumps(live), None, 0,
                            0, [])
    for table, row in record_rows(record):
        insert(database, table, [row])
    app = create_app(replace(settings, allow_get_api=True), clock=lambda: NOON)
    with TestClient(app) as client:
        cookies = {}
        for name in IDENTITIES[1:]:
            client.cookies.clear()
            log_in(client, name)
            cookies[name] = client.cookies[session.COOKIE]
        yield Callers(client, cookies)


@pytest.mark.parametrize("route", ROUTES, ids=[
    f"{route.path} {'/'.join(sorted(route.methods or ()))}" for route in ROUTES])
def test_hostile_parameters_get_a_well_formed_answer(callers: Callers, route: Route) -> None:
    @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(attempt=attempts(route))
    def fuzz(attempt: Attempt) -> None:
        url, content, headers = build(attempt)
        response = callers.request(attempt.identity, attempt.method, url, content, headers)
        found = problem(response, len(content))
        assert found is None, (found, response.content[:2000])

    fuzz()
