"""`/functions/activate_callback` publishes a callback request for the switches."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from starlette.testclient import TestClient

from cdrflow.settings import Settings
from streams.topics import CALLBACK_REQUESTS
from tests.integration.support import log_in, read_topic

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def callback(ok: bool, message: str) -> str:
    return (f"{HEAD}<action>\n <name>callback</name>\n <status>{'ok' if ok else 'failed'}"
            f"</status>\n <status_message>{message}</status_message>\n</action>\n")


def test_a_callback_request_reaches_its_topic(sink: object, api: TestClient,
                                              settings: Settings) -> None:
    url = "/functions/activate_callback"
    assert "Please log in" in api.post(url, params={"src": "1", "dst": "2", "acc": "10"}).text
    log_in(api)
    assert api.post(url, params={"dst": "37061234567", "acc": "10"}).text == callback(
        False, "No source")
    assert api.post(url, params={"src": "37052000201", "dst": "x", "acc": "10"}).text == (
        callback(False, "No destination"))
    for acc in ("11", "999", "abc", ""):  # ann's device, none, not a number, missing
        assert api.post(url, params={"src": "37052000201", "dst": "37061234567",
                                     "acc": acc}).text == callback(False, "Bad device")
    assert api.post(url, params={"src": "37052000201", "dst": "+37061234567",
                                 "acc": "10"}).text == callback(True, "Callback activated")
    records = asyncio.run(read_topic(settings, CALLBACK_REQUESTS))
    assert len(records) == 1
    key, value = records[0]
    request = orjson.loads(value or b"")
    assert key == b"2"
    assert {k: request[k] for k in ("schema", "user_id", "device_id", "src", "dst",
                                    "requested_by")} == {
        "schema": "cdrflow.callback-request/1", "user_id": 2, "device_id": 10,
        "src": "37052000201", "dst": "+37061234567", "requested_by": 2}
