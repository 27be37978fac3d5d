"""device_create, cli_add, phonebook_edit and did_create over the real Kafka and
ClickHouse, read back with devices_get, device_details_get, phonebooks_get and dids_get;
the created device and DID then rate a call (the worker reads their events)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping

import pytest
from starlette.testclient import TestClient

from api.hash import mor_hash
from cdrflow.demo_data import USERS
from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.clis import clis_of_user
from projections.phonebook import entries
from streams.account_events import account_event, encoded
from streams.events import CallAnswered, CallEnded, CallStarted, encode
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS, CALL_EVENTS
from tests.integration.conftest import SECRET
from tests.integration.support import Processes, wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC


def call(api: TestClient, method: str, hashed: tuple[str, ...], params: Mapping[str, str],
         u: str = "admin") -> str:
    values = [params[name] for name in hashed if name in params]
    answer = api.post(f"/billing/api/{method}",
                      data={"u": u, **params, "hash": mor_hash(values, SECRET)})
    assert answer.status_code == 200
    return answer.text


@pytest.fixture(scope="module")
def running(settings: Settings, pipeline: Processes) -> Processes:
    client = connect(settings.clickhouse)
    wait_for(lambda: client.execute("SELECT count() FROM users FINAL")[0][0] >= len(USERS),
             90, "the demo users projected", pipeline)
    entry = account_event("phonebook_entry_added", entry_id=4242, user_id=2,
                          number="37061234567", name="Ann", added_ms=T0)
    asyncio.run(publish(settings, ACCOUNT_EVENTS, [encoded(2, entry)]))  # no speed dial
    return pipeline


def test_create_read_back_and_rate(settings: Settings, running: Processes,
                                   api: TestClient) -> None:
    created = call(api, "device_create",
                   ("user_id", "description", "pin", "type", "devicegroup_id", "caller_id"),
                   {"user_id": "2", "description": "API phone", "pin": "7007", "type": "SIP",
                    "caller_id": '"John" <209>'})
    found = re.fullmatch(re.escape(f"{HEAD}<page>\n  <status>Device created</status>\n  <id>")
                         + r"(\d+)</id>\n</page>\n", created)
    assert found is not None, created
    device_id = int(found.group(1))

    def listed() -> str:
        return call(api, "devices_get", ("user_id",), {"user_id": "2"}, u="john")

    wait_for(lambda: f"<device_id>{device_id}</device_id>" in listed(), 10,
             "the device listed")
    assert (f"    <device>\n      <device_id>{device_id}</device_id>\n"
            "      <device_type>SIP</device_type>\n      <devicegroup_id></devicegroup_id>\n"
            "      <primary_device>0</primary_device>\n"
            f"      <username>{device_id}</username>\n      <secret></secret>\n"
            "      <ipaddr></ipaddr>\n      <port></port>\n"
            "      <callerid>&quot;John&quot; &lt;209&gt;</callerid>\n    </device>\n"
            ) in listed()
    details = call(api, "device_details_get", ("device_id",), {"device_id": str(device_id)})
    assert "<pin>7007</pin>" in details and "<user_id>2</user_id>" in details
    assert "<description>API phone</description>" in details
    assert call(api, "device_create", ("user_id", "pin", "type"),
                {"user_id": "3", "pin": "7007", "type": "IAX2"}) == (
        f"{HEAD}<page>\n  <error>Pin_is_already_used</error>\n</page>\n")

    cli = {"device_id": str(device_id), "cli_number": "37052000209", "cli_description": "Desk"}
    hashed = ("device_id", "cli_number", "cli_description")
    assert call(api, "cli_add", hashed, cli, u="john") == (
        f"{HEAD}<page>\n  <status>CLI successfully created</status>\n</page>\n")
    client = connect(settings.clickhouse)
    wait_for(lambda: any(c.cli == "37052000209" for c in clis_of_user(client, 2)), 10,
             "the CLI projected")
    assert call(api, "cli_add", hashed, cli, u="john") == (
        f"{HEAD}<page>\n  <error>CLI already exists</error>\n</page>\n")

    edited = call(api, "phonebook_edit", ("phonebook_id",),
                  {"phonebook_id": "4242", "speeddial": "7"}, u="john")
    assert "<status>Phonebook was updated</status>" in edited
    wait_for(lambda: entries(client, 2)[0].speeddial == "7", 10, "the speed dial projected")
    assert call(api, "phonebooks_get", ("user_id",), {"user_id": "2"}) == (
        f"{HEAD}<page>\n  <phonebooks>\n    <phonebook>\n      <id>4242</id>\n"
        "      <name>Ann</name>\n      <number>37061234567</number>\n"
        "      <speeddial>7</speeddial>\n    </phonebook>\n  </phonebooks>\n</page>\n")
    # edits in a row: each answers once it is projected (read at once below), so the
    # next one, which carries the whole entry, keeps its change
    for field, change in (("name", "Ann Jones"), ("number", "37061234568"),
                          ("speeddial", "8")):
        assert "<status>Phonebook was updated</status>" in call(
            api, "phonebook_edit", ("phonebook_id",), {"phonebook_id": "4242", field: change},
            u="john")
        assert getattr(entries(client, 2)[0], field) == change
    assert call(api, "phonebooks_get", ("user_id",), {"user_id": "2"}) == (
        f"{HEAD}<page>\n  <phonebooks>\n    <phonebook>\n      <id>4242</id>\n"
        "      <name>Ann Jones</name>\n      <number>37061234568</number>\n"
        "      <speeddial>8</speeddial>\n    </phonebook>\n  </phonebooks>\n</page>\n")
    assert call(api, "phonebooks_get", ("user_id",), {"user_id": "3"}) == (
        f"{HEAD}<page>\n  <error>No Phonebooks found</error>\n</page>\n")

    assert call(api, "did_create", ("provider_id", "did"),
                {"provider_id": "5", "did": "37052000777"}) == (
        f"{HEAD}<page>\n  <status>\n    <success>DID created</success>\n  </status>\n"
        "  <did_details>\n    <id>37052000777</id>\n  </did_details>\n</page>\n")
    free = (f"{HEAD}<page>\n  <dids>\n    <did>\n      <id>37052000777</id>\n"
            "      <did_number>37052000777</did_number>\n      <did_status>free</did_status>\n"
            "      <user_id>0</user_id>\n      <provider_id>5</provider_id>\n    </did>\n"
            "  </dids>\n</page>\n")
    wait_for(lambda: call(api, "dids_get", (), {"search_did_number": "2000777"}) == free, 10,
             "the DID listed")
    assert call(api, "dids_get", (), {"search_provider": "5", "search_status": "free"}) == free
    assert call(api, "dids_get", (), {"search_status": "active"}) == (
        f"{HEAD}<page>\n  <dids></dids>\n</page>\n")
    assert call(api, "did_create", ("provider_id", "did"),
                {"provider_id": "5", "did": "37052000777"}) == (
        f"{HEAD}<page>\n  <status>\n    <error>DID already exists</error>\n  </status>\n"
        "</page>\n")

    # the worker rates a call from the new device, through the new DID
    events = [CallStarted("api-dev-call", T0, 2, device_id, 1, "37052000209", "37061234567",
                          "37052000209", "SIP/209-1", "1795168800.1", did="37052000777"),
              CallAnswered("api-dev-call", T0 + 1_000),
              CallEnded("api-dev-call", T0 + 21_000, 16, 20, 21)]
    asyncio.run(publish(settings, CALL_EVENTS, [(b"api-dev-call", encode(e)) for e in events]))
    query = "SELECT device_id, did, toString(user_price) FROM cdrs FINAL WHERE call_id = %(c)s"
    wait_for(lambda: bool(client.execute(query, {"c": "api-dev-call"})), 60,
             "the call rated", running)
    assert client.execute(query, {"c": "api-dev-call"}) == [
        (device_id, "37052000777", "0.083333")]


def test_device_details_show_the_call_end_webhook(settings: Settings, running: Processes,
                                                  api: TestClient) -> None:
    def url() -> str:
        details = call(api, "device_details_get", ("device_id",), {"device_id": "11"})
        found = re.search(r"<webhook_url_for_call_end>([^<]*)<", details)
        assert found is not None, details
        return found.group(1)

    assert url() == ""
    for device_id, address in ((0, "http://crm.example/ann"), (11, "http://crm.example/desk")):
        event = account_event("call_end_webhook_set", user_id=3, device_id=device_id,
                              url=address, set_ms=T0)
        asyncio.run(publish(settings, ACCOUNT_EVENTS, [encoded(3, event)]))
        wait_for(lambda a=address: url() == a, 20, f"{address} shown")  # type: ignore[misc]
