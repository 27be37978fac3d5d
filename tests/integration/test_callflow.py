"""Device callflows: device_callflow_update and the Call Flow pages, against the real
Kafka and ClickHouse."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from api.callflow import HASHED
from api.hash import mor_hash
from cdrflow.demo_data import DEMO_PASSWORDS
from cdrflow.settings import Settings
from projections.clickhouse import connect
from rating.reference import ACCOUNT_SCHEMA
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS
from tests.integration.conftest import SECRET
from tests.integration.support import Processes, wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
URL = "/billing/api/device_callflow_update"
FAX, JOHN_DID, ANN_DID, FREE_DID = 12, "37052000999", "37052000888", "37052000777"

EXTRA: list[dict[str, Any]] = [
    {"type": "device_created", "device_id": FAX, "user_id": 2, "device_type": "FAX",
     "name": "john-fax", "extension": "202"},
    {"type": "user_created", "user_id": 4, "username": "acc", "first_name": "Abe",
     "last_name": "Counter", "role": "accountant", "owner_id": 0, "currency": "USD",
     "tariff_id": 1, "timezone": "UTC"},
    {"type": "did_created", "did": JOHN_DID, "user_id": 2},
    {"type": "did_created", "did": ANN_DID, "user_id": 3},
    {"type": "did_created", "did": FREE_DID, "user_id": 0},
]


@pytest.fixture(scope="module")
def extra(settings: Settings, sink: Processes) -> None:
    """A fax device of john's, an accountant and three DIDs (john's, ann's, free)."""
    records = [(str(e["user_id"]).encode(), orjson.dumps({"schema": ACCOUNT_SCHEMA, **e}))
               for e in EXTRA]
    asyncio.run(publish(settings, ACCOUNT_EVENTS, records))
    client = connect(settings.clickhouse)
    wait_for(lambda: client.execute("SELECT count() FROM dids FINAL")[0][0] == 3
             and client.execute("SELECT count() FROM users FINAL WHERE user_id = 4")[0][0] == 1
             and client.execute(f"SELECT count() FROM devices FINAL WHERE device_id = {FAX}"
                                )[0][0] == 1, 30, "the extra account events projected", sink)


def update(api: TestClient, u: str = "admin", path: str = URL, **params: str) -> str:
    digest = mor_hash((params[name] for name in HASHED if name in params), SECRET)
    return api.post(path, data={"u": u, **params, "hash": digest}).text


def error(text: str) -> str:
    return f"{HEAD}<error>{text}</error>\n"


def updated(user: str, device: str, state: str, action: str, data: str, callerid_type: str,
            callerid_data: str = "") -> str:
    def short(name: str, value: str) -> str:
        return f"<{name}>{value}</{name}>" if value else f"<{name}/>"

    return (f"{HEAD}<page>\n <status>Callflow was successfully updated</status>\n"
            f" <user>{user}</user>\n <device>{device}</device>\n <callflow>\n"
            f"  <state>{state}</state>\n  <priority>1</priority>\n  <action>{action}</action>\n"
            f"  {short('data', data)}\n  <callerid_type>{callerid_type}</callerid_type>\n"
            f"  {short('callerid_data', callerid_data)}\n </callflow>\n</page>\n")


def action(ok: bool, message: str) -> str:
    return (f"{HEAD}<action>\n <name>callflow_edit</name>\n"
            f" <status>{'ok' if ok else 'failed'}</status>\n"
            f" <status_message>{message}</status_message>\n</action>\n")


def flow_page(user_id: int, device_id: int, label: str, shown: list[str]) -> str:
    states = ["Before call", "Call", "Answered", "No answer", "Busy", "Failed"]
    rows = "".join(f"   <callflow>\n    <call_state>{state}</call_state>\n"
                   f"    <callflow_action>{what}</callflow_action>\n   </callflow>\n"
                   for state, what in zip(states, shown, strict=True))
    return (f"{HEAD}<page>\n <pagename>Call Flow</pagename>\n <language>en</language>\n"
            f" <userid>{user_id}</userid>\n <device>\n  <device_id>{device_id}</device_id>\n"
            f"  <device_description>{label}</device_description>\n"
            "  <device_icon>phone.png</device_icon>\n"
            f"  <callflows>\n{rows}  </callflows>\n </device>\n</page>\n")


def login(api: TestClient, username: str) -> None:
    answer = api.post("/billing/api/login", data={"u": username, "p": DEMO_PASSWORDS[username]})
    assert "<status>ok</status>" in answer.text


def test_update_answers_the_new_setting(extra: None, api: TestClient) -> None:
    assert update(api, device_id="10", state="before_call", callflow_action="forward",
                  forward_to_device="11") == updated(
        "John Smith", "SIP/201", "Before call", "Forward", "SIP/301", "From Device")
    assert update(api, device_id="11", state="no_answer", callflow_action="forward",
                  external_number="37062698746", custom="caller") == updated(
        "Ann Jones", "SIP/301", "No answer", "Forward", "37062698746", "Custom", "caller")
    assert update(api, "john", path="/api/device_callflow_update", device_id="10",
                  state="busy", callflow_action="voicemail", src_callerid="true") == updated(
        "John Smith", "SIP/201", "Busy", "Voicemail", "", "Same as comes")
    assert update(api, "john", device_id="10", state="failed", callflow_action="forward",
                  external_number="442071234567", did_id=JOHN_DID) == updated(
        "John Smith", "SIP/201", "Failed", "Forward", "442071234567", "DID", JOHN_DID)
    assert update(api, "john", device_id="10", state="before_call",
                  callflow_action="fax_detect", fax_device=str(FAX),
                  device_callerid="true") == updated(
        "John Smith", "SIP/201", "Before call", "Fax detect", "FAX/202", "From Device")
    assert update(api, device_id="11", state="busy", callflow_action="empty") == updated(
        "Ann Jones", "SIP/301", "Busy", "Empty", "", "From Device")


@pytest.mark.parametrize(("u", "params", "text"), [
    ("nobody", {"device_id": "10"}, "Access Denied"),
    ("admin", {"device_id": "999", "state": "busy", "callflow_action": "empty"},
     "Device was not found"),
    ("admin", {"device_id": "x1", "state": "busy", "callflow_action": "empty"},
     "Device was not found"),
    ("admin", {"state": "busy", "callflow_action": "empty"}, "Device was not found"),
    ("john", {"device_id": "11", "state": "busy", "callflow_action": "empty"},
     "Device was not found"),  # ann's device is not john's to change
    ("acc", {"device_id": "10", "state": "busy", "callflow_action": "empty"},
     "You are not authorised to use this functionality"),
    ("admin", {"device_id": "10", "callflow_action": "empty"}, "Callflow state was not found"),
    ("admin", {"device_id": "10", "state": "call", "callflow_action": "empty"},
     "Callflow state was not found"),  # Call and Answered are fixed
    ("admin", {"device_id": "10", "state": "ringing", "callflow_action": "empty"},
     "Callflow state was not found"),
    ("admin", {"device_id": "10", "state": "busy"}, "Callflow action was not found"),
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "dial"},
     "Callflow action was not found"),
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "fax_detect",
               "fax_device": str(FAX)}, "Callflow action was not found"),
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "forward"},
     "Missing forward parameters"),
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "forward",
               "forward_to_device": "999"}, "Local device was not found"),
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "forward",
               "forward_to_device": "10"}, "Local device was not found"),  # itself
    ("john", {"device_id": "10", "state": "busy", "callflow_action": "forward",
              "forward_to_device": "11"}, "Local device was not found"),  # ann's
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "forward",
               "external_number": "+37062698746"}, "External number was not found"),
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "forward",
               "external_number": "1" * 31}, "External number was not found"),
    ("admin", {"device_id": "10", "state": "before_call", "callflow_action": "fax_detect"},
     "FAX device was not found"),
    ("admin", {"device_id": "10", "state": "before_call", "callflow_action": "fax_detect",
               "fax_device": "11"}, "FAX device was not found"),  # ann's, and not a fax
    ("admin", {"device_id": "11", "state": "before_call", "callflow_action": "fax_detect",
               "fax_device": "10"}, "FAX device was not found"),  # not a fax
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "empty",
               "did_id": ANN_DID}, "DID was not found"),  # not the device owner's
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "empty",
               "did_id": FREE_DID}, "DID was not found"),
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "empty",
               "did_id": "123"}, "DID was not found"),
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "empty",
               "custom": "a" * 101}, "Invalid parameter: custom"),
    ("admin", {"device_id": "10", "state": "busy", "callflow_action": "dial",
               "did_id": ANN_DID}, "Callflow action was not found"),  # action before DID
])
def test_errors(extra: None, api: TestClient, u: str, params: dict[str, str],
                text: str) -> None:
    assert update(api, u, **params) == error(text)


def test_hash_and_get_are_checked(extra: None, api: TestClient) -> None:
    params = {"u": "admin", "device_id": "10", "state": "busy", "callflow_action": "empty"}
    assert api.post(URL, data={**params, "hash": "0" * 40}).text == error("Incorrect hash")
    digest = mor_hash(["10", "empty", "busy"], SECRET)  # documented order, not request order
    assert api.get(URL, params={**params, "hash": digest}).text == error(
        "GET Requests are disabled")


def test_pages_show_and_change_the_callflow(extra: None, api: TestClient) -> None:
    assert "<error_msg>Please log in</error_msg>" in api.get("/devices/callflow/11").text
    login(api, "ann")
    assert api.get("/devices/callflow/10").text == error("Device was not found")  # john's
    before = api.get("/devices/callflow/11").text
    assert before in (  # the API test may have set busy to Empty already (same as default)
        flow_page(3, 11, "SIP/301", ["-", "Dial(SIP/301)", "Hangup", "-", "-", "-"]),
        flow_page(3, 11, "SIP/301",
                  ["-", "Dial(SIP/301)", "Hangup", "Forward(37062698746)", "-", "-"]))

    assert api.get("/devices/callflow_edit/11?cft=before_call").text == (
        f"{HEAD}<page>\n <pagename>Call State</pagename>\n <language>en</language>\n"
        " <userid>3</userid>\n <callflow>\n  <device_id>11</device_id>\n"
        "  <device_description>SIP/301</device_description>\n"
        "  <device_icon>phone.png</device_icon>\n  <call_state>Before call</call_state>\n"
        "  <actions>\n"
        "   <action>\n    <priority>1</priority>\n    <action_id>2</action_id>\n"
        "     <aval_devices></aval_devices>\n   </action>\n"  # ann has no other device
        "   <action>\n    <priority>1</priority>\n    <action_id>3</action_id>\n   </action>\n"
        "   <action>\n    <priority>1</priority>\n    <action_id>4</action_id>\n"
        "     <aval_devices></aval_devices>\n   </action>\n"
        "  </actions>\n </callflow>\n</page>\n")
    assert "<actions></actions>" in api.get("/devices/callflow_edit/11?cft=hangup").text
    assert api.get("/devices/callflow_edit/11?cft=ring").text == error(
        "Callflow state was not found")

    edit = "/devices/callflow_edit/11"
    assert api.post(f"{edit}?cft=busy", data={"cf_action": "voicemail"}).text == action(
        True, "Callflow was successfully updated")
    assert api.post(f"{edit}?cft=failed", data={
        "cf_action": "forward", "whattodo": "change_external_device",
        "ext_number": "37061234567"}).text == action(True, "Callflow was successfully updated")
    assert api.post(f"{edit}?cft=before_call", data={
        "cf_action": "forward", "whattodo": "change_local_device", "deviceid": "10",
    }).text == action(False, "Local device was not found")  # john's
    assert api.post(f"{edit}?cft=call", data={"cf_action": "voicemail"}).text == action(
        False, "Callflow state was not found")
    assert api.post(f"{edit}?cft=busy", data={"cf_action": "ring"}).text == action(
        False, "Callflow action was not found")
    assert api.post(f"{edit}?cft=noanswer", data={
        "cf_action": "forward", "whattodo": "change_external_device"}).text == action(
        False, "Missing forward parameters")
    assert api.post(f"{edit}?cft=before_call", data={
        "cf_action": "forward", "whattodo": "change_fax_device", "deviceid": str(FAX),
    }).text == action(False, "FAX device was not found")  # john's fax
    assert api.post("/devices/callflow_edit/10?cft=busy", data={"cf_action": "empty"}
                    ).text == action(False, "Device was not found")

    after = ["-", "Dial(SIP/301)", "Hangup", "-", "Voicemail", "Forward(37061234567)"]
    if "Forward(37062698746)" in before:
        after[3] = "Forward(37062698746)"
    wait_for(lambda: api.get("/devices/callflow/11").text == flow_page(3, 11, "SIP/301", after),
             1.0, "the page changes within 1 s")


def test_john_sets_a_fax_and_a_forward_from_the_pages(extra: None, api: TestClient) -> None:
    login(api, "john")
    page = api.get("/devices/callflow_edit/10?cft=before_call").text
    assert ("<device>\n       <device_id>12</device_id>\n"
            "       <device_name>FAX/202</device_name>\n      </device>") in page
    assert "SIP/301" not in page  # ann's device is not a forward target for john
    edit = "/devices/callflow_edit/10"
    assert api.post(f"{edit}?cft=before_call", data={
        "cf_action": "forward", "whattodo": "change_fax_device", "deviceid": str(FAX),
    }).text == action(True, "Callflow was successfully updated")
    assert api.post(f"{edit}?cft=noanswer", data={
        "cf_action": "forward", "whattodo": "change_local_device", "deviceid": str(FAX),
    }).text == action(True, "Callflow was successfully updated")
    wait_for(lambda: "<callflow_action>Forward(FAX/202)</callflow_action>"
             in api.get("/devices/callflow/10").text, 1.0, "the page changes within 1 s")
    assert "<callflow_action>Fax detect(FAX/202)</callflow_action>" in api.get(
        "/devices/callflow/10").text
