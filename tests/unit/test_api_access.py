"""API access control (api.access) through user_calls_get over an in-memory reader:
API allowed, client IP, caller, hash, permission group, and accountants, in that order."""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from api.access import allowed_networks, api_caller, can_change, can_see, ip_allowed
from api.app import create_app
from api.context import ApiContext
from api.errors import ApiError, ErrorKind
from api.hash import mor_hash
from api.params import Params
from api.user_calls import HASHED
from cdrflow.settings import Settings
from projections.account_tables import TABLES, rows_of
from projections.permission_groups import COLUMNS, TABLE, permission_group
from projections.queries import User
from streams.account_events import account_event, parse_account_event
from streams.permission_group_events import SET, PermissionGroup, group_set
from tests.unit.fakes import UsersReader

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "456789"
URL = "/billing/api/user_calls_get"
NOW = datetime(2009, 1, 2, 12, 0, 0, tzinfo=UTC)
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
NOT_AUTHORIZED = "You are not authorized to use this functionality"

USERS = {
    1: User(1, "admin", "", "", "admin", 0, "USD", ""),
    2: User(2, "res", "", "", "reseller", 1, "USD", "", api_group="nocalls"),
    5: User(5, "bob", "", "", "user", 2, "USD", ""),
    7: User(7, "acc", "", "", "accountant", 0, "USD", ""),
    8: User(8, "reader", "", "", "user", 1, "USD", "", api_group="readers"),
    9: User(9, "nocalls", "", "", "user", 1, "USD", "", api_group="nocalls"),
    10: User(10, "off", "", "", "user", 1, "USD", "", api_group="off"),
    11: User(11, "ghost", "", "", "user", 1, "USD", "", api_group="ghost"),
    12: User(12, "acc-ro", "", "", "accountant", 0, "USD", "", api_group="readers"),
    13: User(13, "acc-no", "", "", "accountant", 0, "USD", "", api_group="nocalls"),
    14: User(14, "writer", "", "", "user", 1, "USD", "", api_group="writers"),
    15: User(15, "admin2", "", "", "admin", 0, "USD", "", api_group="ghost"),
}
GROUPS = {
    "readers": PermissionGroup("readers", (("user_calls_get", "read"),)),
    "writers": PermissionGroup("writers", (("user_calls_get", "write"),)),
    "nocalls": PermissionGroup("nocalls", (("phonebooks_get", "read"),)),
    "off": PermissionGroup("off", (("user_calls_get", "disabled"),)),
}


class FakeReader(UsersReader):
    def __init__(self) -> None:
        super().__init__(USERS)
        self.group_reads: list[str] = []

    def query(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if read is permission_group:
            self.group_reads.append(args[0])
            return GROUPS.get(args[0])
        raise AssertionError(f"unexpected read {read.__name__}")


def client_for(reader: FakeReader | None = None, client: tuple[str, int] = ("testclient", 5000),
               **changes: Any) -> TestClient:
    app_settings = Settings(api_secret=SECRET).with_(**changes)
    app = create_app(app_settings, reader=reader or FakeReader(), clock=lambda: NOW)
    return TestClient(app, client=client)


def signed(params: Mapping[str, str], secret: str = SECRET) -> dict[str, str]:
    values = [params[name] for name in HASHED if name in params]
    return {**params, "hash": mor_hash(values, secret)}


def error(text: str) -> str:
    return f"{DECLARATION}<error>{text}</error>\n"


def post(client: TestClient, params: Mapping[str, str]) -> str:
    response = client.post(URL, data=dict(params))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    return str(response.text)


def listed(body: str, s_user: str) -> bool:
    return body.startswith(f"{DECLARATION}<page>") and f"<show_user>{s_user}</show_user>" in body


# ---------------------------------------------------------------- 1. Allow API globally


@pytest.mark.parametrize(
    "params",
    [signed({"u": "admin", "s_user": "5"}), {"u": "nobody"}, {"u": "admin", "hash": "bad"},
     signed({"u": "nocalls", "s_user": "9"}), {}],
    ids=["good", "unknown-u", "bad-hash", "no-permission", "nothing"],
)  # fmt: skip
def test_api_disabled_refuses_everything(params: dict[str, str]) -> None:
    client = client_for(allow_api=False)
    assert post(client, params) == error("API Requests are disabled")


def test_api_disabled_comes_before_the_ip_check() -> None:
    client = client_for(allow_api=False, api_ip_restrict=True)
    assert post(client, signed({"u": "admin", "s_user": "5"})) == error(
        "API Requests are disabled")


def test_get_refusal_still_comes_first() -> None:
    response = client_for(allow_api=False).get(URL, params={"u": "admin"})
    assert response.text == error("GET Requests are disabled")
    allowed = client_for(allow_api=False, allow_get_api=True).get(URL, params={"u": "admin"})
    assert allowed.text == error("API Requests are disabled")


def test_api_allowed_by_default() -> None:
    assert Settings().allow_api
    assert listed(post(client_for(), signed({"u": "admin", "s_user": "5"})), "5")


# ---------------------------------------------------------------- 2. IP whitelist

ALLOWED = ("10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1")


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "10.255.255.255", "192.168.1.7", "2001:db8::5", "::1",
             "::ffff:10.1.2.3"],
)  # fmt: skip
def test_whitelisted_ip_may_call(host: str) -> None:
    client = client_for(client=(host, 5000), api_ip_restrict=True, api_allowed_ips=ALLOWED)
    assert listed(post(client, signed({"u": "admin", "s_user": "5"})), "5")


@pytest.mark.parametrize(
    "host", ["11.0.0.1", "192.168.1.8", "2001:db9::1", "127.0.0.1", "testclient", "",
             "::ffff:11.0.0.1", "10.0.0.1.5"],
)  # fmt: skip
def test_other_ips_are_denied(host: str) -> None:
    client = client_for(client=(host, 5000), api_ip_restrict=True, api_allowed_ips=ALLOWED)
    assert post(client, signed({"u": "admin", "s_user": "5"})) == error("Access Denied")


def test_ip_check_comes_before_the_caller_and_the_hash() -> None:
    client = client_for(client=("11.0.0.1", 5000), api_ip_restrict=True,
                        api_allowed_ips=ALLOWED)
    assert post(client, {"u": "admin", "s_user": "5", "hash": "bad"}) == error("Access Denied")
    allowed = client_for(client=("10.0.0.1", 5000), api_ip_restrict=True,
                         api_allowed_ips=ALLOWED)
    assert post(allowed, {"u": "admin", "s_user": "5", "hash": "bad"}) == error(
        "Incorrect hash")


def test_restriction_with_an_empty_list_denies_everyone() -> None:
    client = client_for(client=("10.0.0.1", 5000), api_ip_restrict=True)
    assert post(client, signed({"u": "admin", "s_user": "5"})) == error("Access Denied")


def test_list_is_ignored_while_the_restriction_is_off() -> None:
    client = client_for(client=("11.0.0.1", 5000), api_allowed_ips=ALLOWED)
    assert listed(post(client, signed({"u": "admin", "s_user": "5"})), "5")


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "not-an-ip", "10.0.0", "", "::1/129"])
def test_an_invalid_entry_stops_the_app_at_construction(entry: str) -> None:
    settings = Settings(api_secret=SECRET, api_allowed_ips=("10.0.0.0/8", entry))
    with pytest.raises(ValueError, match="CDRFLOW_API_ALLOWED_IPS"):
        create_app(settings, reader=FakeReader())


def test_allowed_ips_from_the_environment() -> None:
    env = {"CDRFLOW_API_IP_RESTRICT": "1", "CDRFLOW_API_ALLOWED_IPS": " 10.0.0.0/8, ::1 ,"}
    settings = Settings.from_env(env)
    assert settings.api_ip_restrict and settings.api_allowed_ips == ("10.0.0.0/8", "::1")
    assert Settings.from_env({"CDRFLOW_ALLOW_API": "0"}).allow_api is False
    bad = Settings.from_env({"CDRFLOW_API_ALLOWED_IPS": "10.0.0.0/8,10.0.0.300"})
    with pytest.raises(ValueError, match=re.escape("'10.0.0.300'")):
        create_app(bad, reader=FakeReader())


def test_ip_matcher() -> None:
    assert ip_allowed("10.1.2.3", ["10.0.0.0/8"])
    assert ip_allowed("10.1.2.3", ["10.9.9.9/8"])  # host bits are tolerated
    assert ip_allowed("fe80::1%eth0", ["fe80::/10"])  # a zone is ignored
    assert not ip_allowed("10.1.2.3", ["::/0"])  # IPv4 is never inside an IPv6 network
    assert ip_allowed("::ffff:10.1.2.3", ["10.0.0.0/8"])
    assert not ip_allowed(None, ["0.0.0.0/0"])
    assert not ip_allowed("10.1.2.3", [])
    assert [str(n) for n in allowed_networks(("192.168.1.7", "2001:DB8::/32"))] == [
        "192.168.1.7/32", "2001:db8::/32"]


# ---------------------------------------------------------------- 3 and 4. caller and hash


@pytest.mark.parametrize("params", [{}, {"u": ""}, {"u": "nobody"}, {"u": "Admin"}])
def test_unknown_caller_is_denied(params: dict[str, str]) -> None:
    assert post(client_for(), signed({**params, "s_user": "5"})) == error("Access Denied")


def test_wrong_hash() -> None:
    params = {"u": "admin", "s_user": "5", "hash": mor_hash(["5"], "other secret")}
    assert post(client_for(), params) == error("Incorrect hash")
    assert listed(post(client_for(disable_hash_check=True), params), "5")


# ---------------------------------------------------------------- 5. permission groups


@pytest.mark.parametrize(
    ("caller", "s_user"),
    [("nocalls", "9"), ("off", "10"), ("ghost", "11"), ("acc-no", "5")],
    ids=["method-missing", "method-disabled", "group-unknown", "accountant-without-method"],
)
def test_permission_group_refuses(caller: str, s_user: str) -> None:
    assert post(client_for(), signed({"u": caller, "s_user": s_user})) == error(NOT_AUTHORIZED)


@pytest.mark.parametrize(
    ("caller", "s_user"),
    [("reader", "8"), ("writer", "14"), ("acc-ro", "5"), ("bob", "5")],
    ids=["read", "write-implies-read", "accountant-read", "no-group"],
)
def test_permission_group_allows(caller: str, s_user: str) -> None:
    assert listed(post(client_for(), signed({"u": caller, "s_user": s_user})), s_user)


@pytest.mark.parametrize(("caller", "s_user"), [("res", "2"), ("admin2", "5")])
def test_admins_and_resellers_are_never_restricted(caller: str, s_user: str) -> None:
    reader = FakeReader()
    assert listed(post(client_for(reader), signed({"u": caller, "s_user": s_user})), s_user)
    assert reader.group_reads == []


def test_group_check_comes_after_the_hash_and_before_s_user() -> None:
    client = client_for()
    assert post(client, {"u": "nocalls", "s_user": "9", "hash": "bad"}) == error(
        "Incorrect hash")
    assert post(client, signed({"u": "nocalls", "s_user": "999"})) == error(NOT_AUTHORIZED)
    assert post(client, signed({"u": "reader", "s_user": "999"})) == error(
        "User was not found")


def test_the_group_names_the_canonical_method_for_the_alias_too() -> None:
    client = client_for()
    response = client.post("/billing/api/user_calls", data=signed({"u": "reader",
                                                                   "s_user": "8"}))
    assert listed(response.text, "8")


def caller_of(username: str, *, write: bool) -> User:
    context = ApiContext(settings=Settings(api_secret=SECRET, disable_hash_check=True),
                         clock=lambda: NOW, reader=FakeReader())
    params = Params({"u": username}, ("u",))
    return asyncio.run(api_caller(context, params, "user_calls_get", (), write=write))


def test_write_calls_need_write_level() -> None:
    assert caller_of("writer", write=True).user_id == 14
    assert caller_of("reader", write=False).user_id == 8
    for username in ("reader", "acc-ro", "nocalls"):
        with pytest.raises(ApiError) as refused:
            caller_of(username, write=True)
        assert refused.value.kind is ErrorKind.NOT_AUTHORIZED
        assert refused.value.message == NOT_AUTHORIZED
    assert caller_of("admin", write=True).user_id == 1


# ---------------------------------------------------------------- 6. accountants


@pytest.mark.parametrize("s_user", ["1", "2", "5", "7", "9"])
def test_accountant_reads_every_user(s_user: str) -> None:
    assert listed(post(client_for(), signed({"u": "acc", "s_user": s_user})), s_user)


def test_accountant_unknown_s_user() -> None:
    assert post(client_for(), signed({"u": "acc", "s_user": "99"})) == error(
        "User was not found")


def test_can_see_and_can_change() -> None:
    admin, res, bob, acc = USERS[1], USERS[2], USERS[5], USERS[7]
    other = User(20, "eve", "", "", "user", 1, "USD", "")
    odd = User(21, "odd", "", "", "partner", 0, "USD", "")
    assert all(can_see(acc, u) for u in USERS.values())
    assert not any(can_change(acc, u) for u in USERS.values())
    assert can_see(admin, bob) and can_change(admin, bob)
    assert can_see(res, bob) and can_change(res, bob) and can_change(res, res)
    assert not can_see(res, other) and not can_change(res, other)
    assert can_see(bob, bob) and can_change(bob, bob) and not can_see(bob, other)
    assert not can_see(odd, bob) and not can_change(odd, odd)


# ---------------------------------------------------------------- the group event


def test_group_event_parses_and_projects() -> None:
    event = account_event(SET, group="Integrations",
                          methods={"user_calls_get": "read", "phonebook_edit": "write"})
    group = parse_account_event(event)
    assert group == PermissionGroup(
        "Integrations", (("phonebook_edit", "write"), ("user_calls_get", "read")))
    assert isinstance(group, PermissionGroup)
    assert group.level("user_calls_get") == "read" and group.level("x") == "disabled"
    assert list(rows_of(group, 42)) == [
        (TABLE, ("Integrations", '{"phonebook_edit":"write","user_calls_get":"read"}', 42))]
    assert TABLES[TABLE] == COLUMNS == ("group_name", "methods", "version")


@pytest.mark.parametrize(
    "fields",
    [{}, {"group": "", "methods": {}}, {"group": "g"}, {"group": "g", "methods": []},
     {"group": "g", "methods": {"user_calls_get": "full"}},
     {"group": "g", "methods": {"user_calls_get": 2}}, {"group": 5, "methods": {}},
     {"group": "g" * 101, "methods": {}}, {"group": "g", "methods": {"": "read"}}],
)  # fmt: skip
def test_bad_group_events_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        group_set(account_event(SET, **fields))


class FakeClient:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows
        self.queries: list[tuple[str, dict[str, Any]]] = []

    def execute(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        self.queries.append((sql, params))
        return self.rows


def test_permission_group_read() -> None:
    client = FakeClient([('{"user_calls_get":"read"}',)])
    assert permission_group(client, "g") == PermissionGroup(  # type: ignore[arg-type]
        "g", (("user_calls_get", "read"),))
    assert "FINAL" in client.queries[0][0] and client.queries[0][1] == {"name": "g"}
    assert permission_group(FakeClient([]), "g") is None  # type: ignore[arg-type]
