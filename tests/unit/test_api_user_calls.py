"""user_calls_get through Starlette's TestClient over an in-memory reader."""

from __future__ import annotations

import logging
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.hash import mor_hash
from api.user_calls import HASHED
from cdrflow.settings import Settings
from projections.queries import Call, CallFilter, User

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
URL = "/billing/api/user_calls_get"
NOW = datetime(2009, 1, 2, 12, 0, 0, tzinfo=UTC)
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def parse(document: str | bytes) -> ET.Element:
    """Parse our own output (trusted): well-formedness is what the tests check."""
    return ET.fromstring(document)  # noqa: S314


USERS = {
    1: User(1, "admin", "", "", "admin", 0, "USD", ""),
    2: User(2, "res", "Res", "Eller", "reseller", 1, "USD", "America/New_York"),
    3: User(3, "res2", "", "", "reseller", 1, "USD", ""),
    5: User(5, "bob", "Bob", "Smith", "user", 2, "EUR", "Europe/Vilnius"),
    6: User(6, "carol", "", "", "user", 3, "GBP", "Bogus/Zone"),
    7: User(7, "acc", "", "", "accountant", 0, "USD", ""),
}
CALL = Call(
    call_id="c-1",
    calldate=datetime(2009, 1, 2, 8, 0, 0, tzinfo=UTC),
    calldate_ms=0,
    user_id=5,
    src="101",
    dst="37063042438",
    clid="101",
    disposition="ANSWERED",
    hangup_cause=16,
    billsec=20,
    prefix="3706",
    destination="Lithuania",
    server_id=1,
    did="",
    did_inc_price=Decimal("0"),
    did_price=Decimal("0"),
    did_prov_price=Decimal("0"),
    provider_name="P",
    provider_rate=Decimal("0.01"),
    provider_price=Decimal("0.0033"),
    reseller_id=2,
    reseller_rate=Decimal("0.02"),
    reseller_price=Decimal("0.0066"),
    user_rate=Decimal("0.03"),
    user_price=Decimal("0.01"),
    profit=Decimal("0.0034"),
)


class FakeReader:
    def __init__(self, calls: list[Call] | None = None, fail: bool = False) -> None:
        self.calls_returned = calls if calls is not None else [CALL]
        self.fail = fail
        self.filters: list[CallFilter] = []

    def user_by_username(self, username: str) -> User | None:
        if self.fail:
            raise ConnectionError("clickhouse is down")
        return next((u for u in USERS.values() if u.username == username), None)

    def user_by_id(self, user_id: int) -> User | None:
        return USERS.get(user_id)

    def users_by_ids(self, user_ids: Iterable[int]) -> dict[int, User]:
        return {i: USERS[i] for i in user_ids if i in USERS}

    def calls(self, where: CallFilter) -> list[Call]:
        self.filters.append(where)
        return self.calls_returned


def client_for(reader: FakeReader | None = None, **changes: Any) -> TestClient:
    app_settings = Settings(api_secret=SECRET).with_(**changes)
    app = create_app(app_settings, reader=reader or FakeReader(), clock=lambda: NOW)
    return TestClient(app)


def signed(params: Mapping[str, str], secret: str = SECRET) -> dict[str, str]:
    values = [params[name] for name in HASHED if name in params]
    return {**params, "hash": mor_hash(values, secret)}


def error(text: str) -> str:
    return f"{DECLARATION}<error>{text}</error>\n"


def post(client: TestClient, params: Mapping[str, str], url: str = URL) -> str:
    response = client.post(url, data=dict(params))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    return str(response.text)


# ---------------------------------------------------------------- success


def test_admin_lists_a_users_calls() -> None:
    reader = FakeReader()
    body = post(client_for(reader), signed({"u": "admin", "s_user": "5"}))
    root = parse(body.encode("utf-8"))
    assert root.tag == "page"
    assert root.findtext("userid") == "1" and root.findtext("username") == "admin"
    assert root.findtext("currency") == "EUR" and root.findtext("total_calls") == "1"
    # default period: today in Europe/Vilnius (UTC+2 in January)
    assert root.findtext("calls_stat/period/period_start") == "2009-01-02 00:00:00"
    assert root.findtext("calls_stat/period/period_end") == "2009-01-02 23:59:59"
    assert root.findtext("calls_stat/calls/call/calldate2") == "2009-01-02 10:00:00"
    assert root.findtext("calls_stat/calls/call/nice_reseller") == "Res Eller"
    assert root.findtext("calls_stat/calls/call/user") == "Bob Smith"
    assert reader.filters == [
        CallFilter(
            user_id=5,
            start=int(datetime(2009, 1, 1, 22, tzinfo=UTC).timestamp()),
            end=int(datetime(2009, 1, 2, 21, 59, 59, tzinfo=UTC).timestamp()),
        )
    ]


def test_alias_route_and_empty_list() -> None:
    body = post(
        client_for(FakeReader(calls=[])),
        signed({"u": "admin", "s_user": "1"}),
        "/billing/api/user_calls",
    )
    assert "   <calls></calls>\n" in body
    assert "<total_calls>0</total_calls>" in body


def test_unknown_time_zone_falls_back_to_utc() -> None:
    reader = FakeReader(calls=[])
    body = post(client_for(reader), signed({"u": "admin", "s_user": "6"}))
    assert "<period_start>2009-01-02 00:00:00</period_start>" in body
    assert reader.filters[0].start == int(datetime(2009, 1, 2, tzinfo=UTC).timestamp())


def test_every_filter_reaches_the_reader() -> None:
    reader = FakeReader(calls=[])
    params = {
        "u": "admin", "s_user": "5", "period_start": "1252454580", "period_end": "1252540980",
        "s_call_type": "No Answer", "s_device": "7", "s_provider": "4", "s_hgc": "19",
        "s_destination": "3706", "s_did": "37052000000", "order_by": "p_price",
        "order_desc": "1", "only_did": "1",
    }  # fmt: skip
    root = parse(post(client_for(reader), signed(params)).encode("utf-8"))
    assert reader.filters == [
        CallFilter(
            user_id=5, start=1252454580, end=1252540980, disposition="NO ANSWER", device_id=7,
            provider_id=4, hangup_cause=19, dst_prefix="3706", did="37052000000",
            only_did=True, order_by="p_price", order_desc=True,
        )
    ]  # fmt: skip
    stat = root.find("calls_stat")
    assert stat is not None
    assert [(child.tag, child.text) for child in stat][1:] == [
        ("show_user", "5"), ("show_device", "7"), ("show_status", "No Answer"),
        ("show_provider", "4"), ("show_hgc", "19"), ("show_did", "37052000000"),
        ("calls", None),
    ]  # fmt: skip
    assert root.findtext("calls_stat/period/period_start") == "2009-09-09 03:03:00"


@pytest.mark.parametrize(
    ("call_type", "disposition"),
    [("all", None), ("ALL", None), ("answered", "ANSWERED"), ("no answer", "NO ANSWER"),
     ("failed", "FAILED"), ("busy", "BUSY"), ("", None)],
)  # fmt: skip
def test_call_types(call_type: str, disposition: str | None) -> None:
    reader = FakeReader(calls=[])
    post(client_for(reader), signed({"u": "admin", "s_user": "5", "s_call_type": call_type}))
    assert reader.filters[0].disposition == disposition


def test_all_and_empty_values_mean_no_filter() -> None:
    reader = FakeReader(calls=[])
    params = {"u": "admin", "s_user": "5", "s_device": "all", "s_provider": "", "s_hgc": "All",
              "s_did": "all", "s_destination": "", "order_by": "", "order_desc": "0"}  # fmt: skip
    body = post(client_for(reader), signed(params))
    assert reader.filters[0] == CallFilter(
        user_id=5, start=reader.filters[0].start, end=reader.filters[0].end
    )
    assert "<show_device>all</show_device>" in body and "<show_hgc>All</show_hgc>" in body


def test_body_wins_over_query_string() -> None:
    reader = FakeReader(calls=[])
    client = client_for(reader)
    form = signed({"u": "admin", "s_user": "5"})
    response = client.post(f"{URL}?u=nobody&s_user=6&s_device=9", data=form)
    # s_device came only from the query string, and it is hashed too
    assert response.text == error("Incorrect hash")
    hashed = mor_hash(["5", "9"], SECRET)
    response = client.post(f"{URL}?u=nobody&s_user=6&s_device=9", data={**form, "hash": hashed})
    assert parse(response.content).findtext("calls_stat/show_user") == "5"
    assert reader.filters[0].device_id == 9


def test_multipart_form_body() -> None:
    reader = FakeReader(calls=[])
    form = signed({"u": "admin", "s_user": "5", "s_call_type": "busy"})
    response = client_for(reader).post(URL, files={"x": ("a.txt", b"ignored")}, data=form)
    assert parse(response.content).tag == "page", response.text
    assert reader.filters[0].disposition == "BUSY"


# ---------------------------------------------------------------- GET


def test_get_is_refused_unless_allowed() -> None:
    params = signed({"u": "admin", "s_user": "5"})
    response = client_for().get(URL, params=params)
    assert response.status_code == 200
    assert response.text == error("GET Requests are disabled")
    allowed = client_for(allow_get_api=True).get(URL, params=params)
    assert parse(allowed.content).tag == "page"


def test_get_refusal_comes_before_everything_else() -> None:
    assert client_for().get(URL).text == error("GET Requests are disabled")


# ---------------------------------------------------------------- access and hash


@pytest.mark.parametrize(
    "params",
    [{}, {"s_user": "5"}, {"u": ""}, {"u": "nobody", "s_user": "5"}, {"u": "ADMIN", "s_user": "5"}],
    ids=["nothing", "no-u", "empty-u", "unknown-u", "case-matters"],
)
def test_access_denied(params: dict[str, str]) -> None:
    assert post(client_for(), signed(params)) == error("Access Denied")


def test_access_denied_comes_before_the_hash() -> None:
    assert post(client_for(), {"u": "nobody", "hash": "bad"}) == error("Access Denied")


@pytest.mark.parametrize(
    "params",
    [
        {"u": "admin", "s_user": "5"},
        {"u": "admin", "s_user": "5", "hash": ""},
        {"u": "admin", "s_user": "5", "hash": mor_hash(["5"], "wrong secret")},
        {"u": "admin", "s_user": "5", "hash": mor_hash(["5", "x"], SECRET)},
        {"u": "admin", "s_user": "5", "hash": mor_hash(["admin", "5"], SECRET)},
    ],
    ids=["missing", "empty", "wrong-secret", "extra-value", "with-username"],
)
def test_incorrect_hash(params: dict[str, str]) -> None:
    assert post(client_for(), params) == error("Incorrect hash")


def test_hash_comes_before_user_lookup() -> None:
    assert post(client_for(), {"u": "admin", "s_user": "999"}) == error("Incorrect hash")


def test_hash_in_request_order_is_accepted() -> None:
    client = client_for(FakeReader(calls=[]))
    form = {"u": "admin", "s_call_type": "answered", "period_start": "1252454580", "s_user": "5"}
    in_request = mor_hash(["answered", "1252454580", "5"], SECRET)
    documented = mor_hash(["5", "1252454580", "answered"], SECRET)
    for digest in (in_request, documented):
        body = post(client, {**form, "hash": digest})
        assert body.startswith(f"{DECLARATION}<page>"), body
    wrong = mor_hash(["1252454580", "answered", "5"], SECRET)
    assert post(client, {**form, "hash": wrong}) == error("Incorrect hash")


def test_request_order_puts_the_query_string_first() -> None:
    client = client_for(FakeReader(calls=[]))
    digest = mor_hash(["answered", "5"], SECRET)
    response = client.post(
        f"{URL}?s_call_type=answered", data={"u": "admin", "s_user": "5", "hash": digest}
    )
    assert parse(response.content).tag == "page"


def test_disabled_hash_check_ignores_the_hash() -> None:
    client = client_for(FakeReader(calls=[]), disable_hash_check=True)
    for params in ({"u": "admin", "s_user": "5"}, {"u": "admin", "s_user": "5", "hash": "junk"}):
        assert parse(post(client, params).encode()).tag == "page"
    assert post(client, {"u": "nobody", "s_user": "5"}) == error("Access Denied")


# ---------------------------------------------------------------- s_user


@pytest.mark.parametrize(
    ("caller", "s_user"),
    [
        ("admin", None), ("admin", ""), ("admin", "abc"), ("admin", "-5"), ("admin", "5.0"),
        ("admin", " 5"), ("admin", "all"), ("admin", "999"), ("admin", "9" * 30),
        ("admin", "\u0665"), ("res", "6"), ("res", "1"), ("res2", "5"), ("bob", "6"),
        ("bob", "2"), ("carol", "5"),
    ],
)  # fmt: skip
def test_user_was_not_found(caller: str, s_user: str | None) -> None:
    params = {"u": caller} if s_user is None else {"u": caller, "s_user": s_user}
    assert post(client_for(), signed(params)) == error("User was not found")


@pytest.mark.parametrize(
    ("caller", "s_user"),
    [("admin", "1"), ("admin", "6"), ("admin", "005"), ("res", "2"), ("res", "5"),
     ("res2", "6"), ("bob", "5"), ("carol", "6")],
)  # fmt: skip
def test_visible_users(caller: str, s_user: str) -> None:
    body = post(client_for(FakeReader(calls=[])), signed({"u": caller, "s_user": s_user}))
    assert f"<show_user>{s_user}</show_user>" in body


@pytest.mark.parametrize("s_user", ["1", "2", "5", "6", "7"])
def test_accountant_sees_every_user(s_user: str) -> None:
    body = post(client_for(FakeReader(calls=[])), signed({"u": "acc", "s_user": s_user}))
    assert f"<show_user>{s_user}</show_user>" in body


# ---------------------------------------------------------------- validation


INVALID = [
    ("period_start", ["abc", "-1", "1.5", "1e9", "253402300799", " 1"]),
    ("period_end", ["x", "-100"]),
    ("s_call_type", ["missed", "answered ", "0"]),
    ("s_device", ["x", "-1", "1.0", "9" * 21]),
    ("s_provider", ["none", "0x10"]),
    ("s_hgc", ["normal", "16,17"]),
    ("s_did", ["+370", "37x", "1 2"]),
    ("order_by", ["calldate", "TIME", "src; DROP TABLE cdrs", "1"]),
    ("order_desc", ["2", "true", "yes", "-1"]),
    ("only_did", ["2", "on"]),
]
INVALID_CASES = [(name, value) for name, values in INVALID for value in values]


@pytest.mark.parametrize(("name", "value"), INVALID_CASES)
def test_invalid_parameter(name: str, value: str) -> None:
    params = signed({"u": "admin", "s_user": "5", name: value})
    assert post(client_for(), params) == error(f"Invalid parameter: {name}")


def test_first_invalid_parameter_in_documented_order_is_reported() -> None:
    params = signed({"u": "admin", "s_user": "5", "only_did": "9", "s_device": "x"})
    assert post(client_for(), params) == error("Invalid parameter: s_device")


def test_validation_comes_after_the_user_check() -> None:
    params = signed({"u": "bob", "s_user": "6", "s_device": "x"})
    assert post(client_for(), params) == error("User was not found")


# ---------------------------------------------------------------- failures


def test_reader_failure_is_an_internal_error_with_a_logged_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = client_for(FakeReader(fail=True)).post(URL, data={"u": "admin"})
    assert response.status_code == 200
    assert response.text == error("Internal error")
    assert "ConnectionError" in caplog.text and "Traceback" in caplog.text


def test_unknown_path_and_method_answer_xml() -> None:
    client = client_for()
    missing = client.post("/billing/api/no_such_method")
    assert missing.status_code == 404 and missing.text == error("Not Found")
    wrong = client.put(URL)
    assert wrong.status_code == 405 and wrong.text == error("Method Not Allowed")


def test_oversized_body_is_refused() -> None:
    response = client_for().post(URL, content=b"u=" + b"a" * (2 * 1024 * 1024))
    assert response.status_code == 413  # Starlette's own plain-text answer


# ---------------------------------------------------------------- lifespan and pool


class FakeClient:
    """Enough of clickhouse_driver.Client for the lifespan-built reader."""

    instances: ClassVar[list[FakeClient]] = []

    def __init__(self) -> None:
        self.queries: list[tuple[str, dict[str, Any]]] = []
        self.disconnected = False
        FakeClient.instances.append(self)

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        self.queries.append((sql, params or {}))
        if "FROM users FINAL" in sql:
            return [(1, "admin", "", "", "admin", 0, "USD", "", Decimal(0), "postpaid",
                     Decimal(-1), "en", "")]
        return []

    def execute_iter(self, sql: str, params: dict[str, Any] | None = None,
                     settings: dict[str, Any] | None = None) -> Iterator[tuple[Any, ...]]:
        yield from self.execute(sql, params)

    def disconnect(self) -> None:
        self.disconnected = True


def test_lifespan_builds_a_clickhouse_reader_from_the_factory() -> None:
    FakeClient.instances = []
    app = create_app(Settings(api_secret=SECRET), client_factory=FakeClient, clock=lambda: NOW)
    with TestClient(app) as client:
        for _ in range(3):
            body = post(client, signed({"u": "admin", "s_user": "1"}))
            assert "<total_calls>0</total_calls>" in body
    assert 1 <= len(FakeClient.instances) <= 3
    assert all(client.disconnected for client in FakeClient.instances)
    sql = [query for client in FakeClient.instances for query, _ in client.queries]
    assert sum("FROM cdrs FINAL" in query for query in sql) == 3


class BrokenClient(FakeClient):
    def execute(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if "FROM cdrs" in sql:
            raise EOFError("Unexpected EOF while reading bytes")
        return super().execute(sql, params)


def test_a_failing_client_is_disconnected_and_the_answer_is_an_internal_error() -> None:
    FakeClient.instances = []
    app = create_app(Settings(api_secret=SECRET), client_factory=BrokenClient)
    with TestClient(app) as client:
        body = post(client, signed({"u": "admin", "s_user": "1"}))
        assert body == error("Internal error")
        assert all(c.disconnected for c in FakeClient.instances)
        assert "EOFError" not in body


def test_without_lifespan_or_reader_the_answer_is_an_internal_error() -> None:
    app = create_app(Settings(api_secret=SECRET), client_factory=FakeClient)
    assert post(TestClient(app), {"u": "admin"}) == error("Internal error")


# ---------------------------------------------------------------- properties

NAMES = st.sampled_from([*HASHED, "u", "hash", "p", "junk"])
VALUES = st.one_of(
    st.sampled_from(["", "0", "1", "5", "all", "admin", "bob", "answered", "no answer", "time",
                     "dst", "18446744073709551616", "4294967296", "-1", "&<>\"'"]),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=st.dictionaries(NAMES, VALUES, max_size=8),
    method=st.sampled_from(["GET", "POST"]),
    sign=st.booleans(),
    allow_get=st.booleans(),
)
def test_any_parameters_give_well_formed_xml(
    params: dict[str, str], method: str, sign: bool, allow_get: bool
) -> None:
    if sign:
        params = signed(params)
    client = client_for(allow_get_api=allow_get)
    if method == "GET":
        response = client.get(URL, params=params)
    else:
        response = client.post(URL, data=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text.startswith(DECLARATION) and response.text.endswith("\n")
    root = parse(response.content)
    assert root.tag in {"page", "error"}
    if root.tag == "error":
        assert root.text != "Internal error"


class StreamingReader(FakeReader):
    """Yields its calls one by one and records how far the API read."""

    def __init__(self, count: int) -> None:
        super().__init__(calls=[])
        self.count = count
        self.yielded = 0

    def calls(self, where: CallFilter) -> Iterator[Call]:  # type: ignore[override]
        self.filters.append(where)
        for n in range(self.count):
            self.yielded += 1
            yield CALL._replace(call_id=f"c{n}", dst=f"3706{n:07d}")


def test_a_long_list_is_spooled_and_streamed_byte_for_byte(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import api.user_calls
    monkeypatch.setattr(api.user_calls, "SPOOL_BYTES", 4096)  # forces the spool to disk
    monkeypatch.setattr(api.user_calls, "CHUNK_BYTES", 1000)
    reader = StreamingReader(3000)
    body = post(client_for(reader), signed({"u": "admin", "s_user": "5"}))
    assert reader.yielded == 3000
    assert "<total_calls>3000</total_calls>" in body
    assert body.count("<call>") == 3000
    assert body.index("<dst>37060000000</dst>") < body.index("<dst>37060002999</dst>")
    assert body.endswith("   </calls>\n </calls_stat>\n</page>\n")
    parse(body.encode("utf-8"))  # well-formed
