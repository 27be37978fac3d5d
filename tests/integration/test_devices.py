"""The devices and CallerIDs pages and adding CLIs, against the real Kafka and ClickHouse."""

from __future__ import annotations

import asyncio
import re

import orjson
import pytest
from starlette.testclient import TestClient

from cdrflow.demo_data import DEMO_PASSWORDS
from cdrflow.settings import Settings
from streams.account_events import account_event
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS
from tests.integration.support import wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
REGISTERED_MS = 1_775_000_000_000  # 2026-03-31 23:33:20 UTC


def action(ok: bool, message: str) -> str:
    return (f"{HEAD}<action>\n <name>add_cli</name>\n <status>{'ok' if ok else 'failed'}"
            f"</status>\n <status_message>{message}</status_message>\n</action>\n")


CREATED, NOT_CREATED = action(True, "CLI created"), action(False, "CLI not created")


def login(api: TestClient, username: str) -> None:
    answer = api.post("/billing/api/login", data={"u": username, "p": DEMO_PASSWORDS[username]})
    assert "<status>ok</status>" in answer.text


def add(api: TestClient, device_id: object, cli: str, description: str = "") -> str:
    return api.post("/devices/cli_add", data={"device_id": str(device_id), "cli": cli,
                                              "description": description}).text


def clis_page(api: TestClient) -> str:
    page = api.get("/devices/user_device_clis").text
    page = re.sub(r"<cli_id>\d+</cli_id>", "<cli_id>N</cli_id>", page)
    return re.sub(r"<added_at>[^<]*</added_at>", "<added_at>T</added_at>", page)


def publish_account_events(settings: Settings, *events: dict[str, object]) -> None:
    records = [(str(e["user_id"]).encode(), orjson.dumps(e)) for e in events]
    asyncio.run(publish(settings, ACCOUNT_EVENTS, records))


def device(acc: int, description: str, kind: str, extension: str, username: str, cid: str,
           registered: str = "") -> str:
    return (f"  <device>\n   <acc>{acc}</acc>\n   <description>{description}</description>\n"
            f"   <type>{kind}</type>\n   <extension>{extension}</extension>\n"
            f"   <username>{username}</username>\n   <password></password>\n"
            f"   <cid>{cid}</cid>\n   <last_time_registered>{registered}"
            "</last_time_registered>\n  </device>\n")


def devices_page(*devices: str) -> str:
    return (f"{HEAD}<page>\n <pagename>Devices</pagename>\n <language>en</language>\n"
            f" <userid>2</userid>\n <devices>\n{''.join(devices)} </devices>\n</page>\n")


def test_pages_ask_for_a_login(sink: object, api: TestClient) -> None:
    for path in ("/devices/user_devices", "/devices/user_device_clis"):
        assert "<error_msg>Please log in</error_msg>" in api.get(path).text
    assert "<error_msg>Please log in</error_msg>" in add(api, 10, "123")


def test_the_devices_page_shows_the_users_devices(sink: object, api: TestClient,
                                                  settings: Settings) -> None:
    login(api, "john")
    desk = device(10, "john-desk", "SIP", "201", "201", "")
    assert api.get("/devices/user_devices").text == devices_page(desk)

    publish_account_events(
        settings,
        account_event("device_created", device_id=12, user_id=2, device_type="IAX2",
                      name="john-soft", extension="202", description="John's softphone",
                      username="john202", callerid='"John" <202>'),
        account_event("device_registered", device_id=10, user_id=2,
                      registered_ms=REGISTERED_MS),
    )
    soft = device(12, "John's softphone", "IAX2", "202", "john202",
                  "&quot;John&quot; &lt;202&gt;")
    registered = device(10, "john-desk", "SIP", "201", "201", "", "2026-03-31 23:33:20")
    expected = devices_page(registered, soft)
    wait_for(lambda: api.get("/devices/user_devices").text == expected, 5.0,
             "the new device and the registration on the page")
    assert api.post("/devices/user_devices").text == expected


def test_clis_are_added_and_listed(sink: object, api: TestClient, settings: Settings) -> None:
    # device 12 is the one the previous test published (the module shares one database)
    login(api, "john")
    empty = clis_page(api)
    assert '  <device id="10">SIP/201</device>\n' in empty
    assert empty.endswith(" <clis></clis>\n</page>\n")

    assert add(api, 10, "37061234567", "Mobile <work>") == CREATED
    assert add(api, 10, " 442071234567 ") == CREATED
    wait_for(lambda: clis_page(api).count("<cli>") == 2, 1.0, "CLIs visible within 1 s")
    assert clis_page(api) == (
        f"{HEAD}<page>\n <pagename>CallerIDs</pagename>\n <language>en</language>\n"
        " <userid>2</userid>\n <aval_devices>\n"
        '  <device id="10">SIP/201</device>\n'
        '  <device id="12">IAX2/202</device>\n'
        " </aval_devices>\n <clis>\n"
        "  <cli>\n   <cli_id>N</cli_id>\n   <device>SIP/201</device>\n"
        "   <device_icon>phone.png</device_icon>\n   <cli_name>37061234567</cli_name>\n"
        "   <cli_desc>Mobile &lt;work&gt;</cli_desc>\n   <added_at>T</added_at>\n  </cli>\n"
        "  <cli>\n   <cli_id>N</cli_id>\n   <device>SIP/201</device>\n"
        "   <device_icon>phone.png</device_icon>\n   <cli_name>442071234567</cli_name>\n"
        "   <cli_desc></cli_desc>\n   <added_at>T</added_at>\n  </cli>\n"
        " </clis>\n</page>\n"
    )
    assert api.post("/devices/user_device_clis").text.count("<cli>") == 2

    # every failure
    assert add(api, 10, "37061234567") == action(False, "CLI already exists")
    assert add(api, 10, "") == action(False, "CLI must be numeric")
    assert add(api, 10, "+37061234567") == action(False, "CLI must be numeric")
    assert add(api, 10, "3706 123") == action(False, "CLI must be numeric")
    assert add(api, 10, "1" * 41) == NOT_CREATED
    assert add(api, 10, "123", "x" * 201) == NOT_CREATED
    assert add(api, 11, "123") == NOT_CREATED  # ann's device
    assert add(api, 999, "123") == NOT_CREATED
    assert add(api, "ten", "123") == NOT_CREATED
    assert add(api, "", "123") == NOT_CREATED
    assert api.get("/devices/cli_add", params={"device_id": "10", "cli": "5"}).status_code == 405

    # the same CLI on another device is another CLI
    assert add(api, 12, "37061234567") == CREATED
    wait_for(lambda: clis_page(api).count("<cli>") == 3, 1.0, "the third CLI")


def test_the_admin_adds_a_cli_to_anns_device(sink: object, api: TestClient) -> None:
    login(api, "admin")
    assert add(api, 11, "37052000301", "Ann's desk") == CREATED
    assert "<cli>" not in clis_page(api)  # the CLI is ann's, not the admin's
    api.get("/billing/api/logout")
    login(api, "ann")
    wait_for(lambda: "<cli_name>37052000301</cli_name>" in clis_page(api), 1.0,
             "ann's CLI on her page")
    assert "<cli_desc>Ann's desk</cli_desc>" in clis_page(api)
    assert add(api, 10, "123") == NOT_CREATED  # john's device
