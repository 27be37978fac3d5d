"""API access control against the real Kafka and ClickHouse: permission groups published
as events and projected by the sink, accountants, the hash, the IP whitelist."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.callflow import HASHED as CALLFLOW_HASHED
from api.hash import mor_hash
from api.user_calls import HASHED
from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.permission_groups import permission_group
from projections.queries import user_by_username
from streams.account_events import account_event, encoded
from streams.permission_group_events import SET
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS
from tests.integration.conftest import SECRET
from tests.integration.support import wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
URL = "/billing/api/user_calls_get"
START, END = "1230768000", "1230854399"  # 2009-01-01, a day without calls
NOT_AUTHORIZED = "You are not authorized to use this functionality"

EXTRA_USERS = [
    {"user_id": 40, "username": "integrator", "role": "user", "owner_id": 0,
     "currency": "USD", "tariff_id": 1, "api_group": "no-calls"},
    {"user_id": 41, "username": "reporter", "role": "user", "owner_id": 0,
     "currency": "USD", "tariff_id": 1, "api_group": "calls-read"},
    {"user_id": 42, "username": "books", "role": "accountant", "owner_id": 0,
     "currency": "USD", "tariff_id": 1},
    {"user_id": 43, "username": "lost", "role": "user", "owner_id": 0,
     "currency": "USD", "tariff_id": 1, "api_group": "no-such-group"},
]  # fmt: skip
GROUPS = {
    "no-calls": {"phonebooks_get": "read", "user_calls_get": "disabled"},
    "calls-read": {"user_calls_get": "read"},
}


def error(text: str) -> str:
    return f"{HEAD}<error>{text}</error>\n"


def calls_page(caller_id: int, caller: str, s_user: str) -> str:
    """The answer for a day without calls, the currency being USD."""
    return (
        f"{HEAD}<page>\n <pagename>Calls</pagename>\n <language>en</language>\n"
        f" <error_msg></error_msg>\n <userid>{caller_id}</userid>\n"
        f" <username>{caller}</username>\n <total_calls>0</total_calls>\n"
        " <currency>USD</currency>\n <calls_stat>\n"
        "   <period>\n     <period_start>2009-01-01 00:00:00</period_start>\n"
        "     <period_end>2009-01-01 23:59:59</period_end>\n   </period>\n"
        f"   <show_user>{s_user}</show_user>\n   <show_device>all</show_device>\n"
        "   <show_status>all</show_status>\n   <show_provider>all</show_provider>\n"
        "   <show_hgc>all</show_hgc>\n   <show_did>all</show_did>\n"
        "   <calls></calls>\n </calls_stat>\n</page>\n"
    )


def signed(params: Mapping[str, str], secret: str = SECRET) -> dict[str, str]:
    values = [params[name] for name in HASHED if name in params]
    return {**params, "hash": mor_hash(values, secret)}


def calls(api: TestClient, caller: str, s_user: str = "2", secret: str = SECRET) -> str:
    params = {"u": caller, "s_user": s_user, "period_start": START, "period_end": END}
    return str(api.post(URL, data=signed(params, secret)).text)


@pytest.fixture(scope="module")
def groups(settings: Settings, sink: object) -> None:
    """The permission groups and the users in them, published and projected."""
    records = [encoded(0, account_event(SET, group=name, methods=methods))
               for name, methods in GROUPS.items()]
    records += [encoded(u["user_id"], account_event("user_created", **u)) for u in EXTRA_USERS]
    asyncio.run(publish(settings, ACCOUNT_EVENTS, records))
    client = connect(settings.clickhouse)
    wait_for(lambda: all(permission_group(client, name) for name in GROUPS)
             and all(user_by_username(client, str(u["username"])) for u in EXTRA_USERS),
             30, "the groups and their users projected")


def test_the_group_is_projected(groups: None, settings: Settings) -> None:
    group = permission_group(connect(settings.clickhouse), "no-calls")
    assert group is not None
    assert group.methods == (("phonebooks_get", "read"), ("user_calls_get", "disabled"))


def test_answers_by_caller(groups: None, api: TestClient) -> None:
    body = calls(api, "admin")
    assert body == calls_page(0, "admin", "2"), body
    assert calls(api, "john") == calls_page(2, "john", "2")  # a user without a reseller
    assert calls(api, "john", "3") == error("User was not found")
    assert calls(api, "integrator", "40") == error(NOT_AUTHORIZED)
    assert calls(api, "lost", "43") == error(NOT_AUTHORIZED)
    assert calls(api, "reporter", "41") == calls_page(41, "reporter", "41")
    assert calls(api, "reporter", "2") == error("User was not found")
    assert calls(api, "books", "2") == calls_page(42, "books", "2")  # accountant: any user
    assert calls(api, "books", "3") == calls_page(42, "books", "3")
    assert calls(api, "admin", secret="wrong") == error("Incorrect hash")
    assert calls(api, "integrator", "40", secret="wrong") == error("Incorrect hash")
    assert calls(api, "nobody") == error("Access Denied")


def test_ip_whitelist_and_api_switch(groups: None, settings: Settings) -> None:
    restricted = settings.with_(api_ip_restrict=True, api_allowed_ips=("10.0.0.0/8",))
    with TestClient(create_app(restricted), client=("192.0.2.7", 40000)) as blocked:
        assert calls(blocked, "admin") == error("Access Denied")
    with TestClient(create_app(restricted)) as test_client:  # host "testclient": no IP
        assert calls(test_client, "admin") == error("Access Denied")
    with TestClient(create_app(restricted), client=("10.20.30.40", 40000)) as allowed:
        assert calls(allowed, "admin") == calls_page(0, "admin", "2")
        assert calls(allowed, "integrator", "40") == error(NOT_AUTHORIZED)
    with TestClient(create_app(settings.with_(allow_api=False))) as disabled:
        assert calls(disabled, "admin") == error("API Requests are disabled")


def callflow_params() -> dict[str, str]:
    params = {"device_id": "10", "callflow_action": "empty", "state": "busy"}
    return {**params, "hash": mor_hash([params[n] for n in CALLFLOW_HASHED if n in params],
                                       SECRET)}


# every /billing/api method: (path, parameters of a call the admin may make)
API_METHODS = {
    "/billing/api/user_calls_get": {"s_user": "2", "period_start": START, "period_end": END,
                                    "hash": mor_hash(["2", START, END], SECRET)},
    "/billing/api/user_calls": {"s_user": "2", "period_start": START, "period_end": END,
                                "hash": mor_hash(["2", START, END], SECRET)},
    "/billing/api/call_quality_get": {"period_start": START, "period_end": END,
                                      "group_by": "destination",
                                      "hash": mor_hash([START, END, "destination"], SECRET)},
    "/billing/api/device_callflow_update": callflow_params(),
    "/api/device_callflow_update": callflow_params(),
}


def answer(client: TestClient, path: str, caller: str, **changes: str) -> str:
    return str(client.post(path, data={"u": caller, **API_METHODS[path], **changes}).text)


@pytest.mark.parametrize("path", sorted(API_METHODS))
def test_every_api_method_applies_every_rule(groups: None, settings: Settings,
                                             path: str) -> None:
    restricted = settings.with_(api_ip_restrict=True, api_allowed_ips=("10.0.0.0/8",))
    inside, outside = ("10.20.30.40", 40000), ("192.0.2.7", 40000)
    with TestClient(create_app(restricted), client=inside) as allowed:
        assert "<error>" not in answer(allowed, path, "admin")
        assert answer(allowed, path, "admin", hash="0" * 40) == error("Incorrect hash")
        assert answer(allowed, path, "nobody") == error("Access Denied")
        assert answer(allowed, path, "integrator") == error(NOT_AUTHORIZED)  # group excludes it
    with TestClient(create_app(restricted), client=outside) as blocked:
        assert answer(blocked, path, "admin") == error("Access Denied")
    with TestClient(create_app(settings.with_(allow_api=False))) as disabled:
        assert answer(disabled, path, "admin") == error("API Requests are disabled")
    with TestClient(create_app(settings)) as plain:
        assert plain.get(path, params={"u": "admin", **API_METHODS[path]}).text == error(
            "GET Requests are disabled")


def test_logging_in_obeys_the_api_switch_and_the_ip_allow_list(groups: None,
                                                               settings: Settings) -> None:
    def login(client: TestClient) -> str:
        return str(client.post("/billing/api/login", data={"u": "john", "p": "john-demo"}).text)

    def failed(message: str) -> str:
        return (f"{HEAD}<action>\n <name>login</name>\n <status>failed</status>\n"
                f" <status_message>{message}</status_message>\n</action>\n")

    restricted = settings.with_(api_ip_restrict=True, api_allowed_ips=("10.0.0.0/8",))
    with TestClient(create_app(restricted), client=("192.0.2.7", 40000)) as blocked:
        assert login(blocked) == failed("Access Denied")
    with TestClient(create_app(restricted), client=("10.0.0.9", 40000)) as allowed:
        assert "<status>ok</status>" in login(allowed)
    with TestClient(create_app(settings.with_(allow_api=False))) as disabled:
        assert login(disabled) == failed("API Requests are disabled")
