"""active_calls_get over the real pipeline: call events in, the worker's `active-calls`
states through the sink into ClickHouse, MOR XML out, within a second of each event."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from cdrflow.settings import Settings
from projections.clickhouse import connect
from streams.events import CallAnswered, CallEnded, CallEvent, CallRinging, CallStarted, encode
from streams.publisher import publish
from streams.topics import CALL_EVENTS
from tests.integration.support import Processes, wait_for

pytestmark = pytest.mark.integration

T0 = (int(time.time()) - 60) * 1000  # a minute ago: inside the 4 h bound
NOW = datetime.fromtimestamp(T0 / 1000 + 30, UTC)  # the API's clock: 30 s after the start
URL = "/billing/api/active_calls_get"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def mor_hash(*values: str) -> str:
    return hashlib.sha1(("".join(values) + "456789").encode()).hexdigest()


def started(call_id: str) -> CallStarted:
    return CallStarted(call_id, T0, 2, 10, 1, "37052000201", "37061234567", "37052000201",
                       f"SIP/201-{call_id}", "1795168800.000001", 5, "Carrier A")


def send(settings: Settings, *events: CallEvent) -> None:
    asyncio.run(publish(settings, CALL_EVENTS, [(e.call_id.encode(), encode(e)) for e in events]))


@pytest.fixture(scope="module")
def warm(settings: Settings, pipeline: Processes) -> Processes:
    """One complete call through worker and sink: both have joined their groups."""
    send(settings, started("warm"), CallAnswered("warm", T0 + 1000),
         CallEnded("warm", T0 + 5000, 16, 4, 5))
    client = connect(settings.clickhouse)
    wait_for(lambda: client.execute(
        "SELECT count() FROM cdrs FINAL")[0][0] == 1 and client.execute(
        "SELECT count() FROM active_calls WHERE call_id = 'warm' AND ended = 1")[0][0] == 1,
        120, "the warm-up call rated and ended", pipeline)
    return pipeline


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        yield client


def ask(api: TestClient, user: str = "admin", **filters: str) -> str:
    answer = api.post(URL, data={"u": user, **filters, "hash": mor_hash(user)})
    assert answer.status_code == 200
    return answer.text


def live_call(status: str, answer_time: str, duration: str) -> str:
    return f"""{HEAD}<page>
 <active_calls>
  <active_call>
   <id>live-1</id>
   <uniqueid>1795168800.000001</uniqueid>
   <status>{status}</status>
   {answer_time}
   {duration}
   <src>37052000201</src>
   <user_id>2</user_id>
   <user>John Smith</user>
   <src_device_id>10</src_device_id>
   <device_type>SIP</device_type>
   <device_extension>201</device_extension>
   <device_name>john-desk</device_name>
   <device_istrunk>0</device_istrunk>
   <device_ani>0</device_ani>
   <localized_dst>37061234567</localized_dst>
   <direction_code/>
   <direction_name/>
   <destination_name>Lithuania MOB</destination_name>
   <provider_id>5</provider_id>
   <provider_name>Carrier A</provider_name>
   <channel>SIP/201-live-1</channel>
  </active_call>
 </active_calls>
</page>
"""


RINGING = live_call("Ringing", "<answer_time/>", "<duration/>")
ANSWERED_AT = datetime.fromtimestamp(T0 / 1000 + 5, UTC).strftime("%Y-%m-%d %H:%M:%S")
ANSWERED = live_call("Answered", f"<answer_time>{ANSWERED_AT}</answer_time>",
                     "<duration>25</duration>")
NO_DATA = (f"{HEAD}<page>\n   <status>\n       <message>No data found...</message>\n"
           "   </status>\n</page>\n")


def error(text: str) -> str:
    return f"{HEAD}<page>\n   <status>\n       <error>{text}</error>\n   </status>\n</page>\n"


def test_a_call_is_shown_ringing_then_answered_then_gone(
        settings: Settings, warm: Processes, api: TestClient) -> None:
    assert ask(api) == NO_DATA
    send(settings, started("live-1"), CallRinging("live-1", T0 + 300))
    wait_for(lambda: ask(api) == RINGING, 1.0, "the call ringing", warm)
    assert ask(api, user="john", s_status="ringing") == RINGING.replace(
        "<provider_id>5</provider_id>\n   <provider_name>Carrier A</provider_name>",
        "<provider_id/>\n   <provider_name/>")  # providers are the admin's business
    assert ask(api, user="ann") == NO_DATA

    send(settings, CallAnswered("live-1", T0 + 5000))
    wait_for(lambda: ask(api) == ANSWERED, 1.0, "the call answered", warm)
    assert ask(api, s_status="Ringing") == NO_DATA
    assert ask(api, s_user_id="2", s_device="10", s_destination="370%", s_source="%0201",
               s_provider="5", s_server="1") == ANSWERED
    # the same events again publish the same state again: nothing changes
    send(settings, started("live-1"), CallRinging("live-1", T0 + 300),
         CallAnswered("live-1", T0 + 5000))
    time.sleep(1.0)
    assert ask(api) == ANSWERED

    send(settings, CallEnded("live-1", T0 + 40_000, 16, 35, 40))
    wait_for(lambda: ask(api) == NO_DATA, 1.0, "the call gone", warm)


def test_errors(warm: Processes, api: TestClient) -> None:
    assert ask(api, s_server="x") == error("Server was not found")
    assert ask(api, s_country="Atlantis") == error("Direction was not found")
    assert ask(api, s_user_id="77") == error("Originating User was not found")
    assert ask(api, user="ann", s_user_id="2") == error("Originating User was not found")
    assert ask(api, s_user_id="2", s_device="11") == error("Originating Device was not found")
    assert ask(api, s_dst_user_id="77") == error("Terminating User was not found")
    assert ask(api, s_dst_user_id="3", s_dst_device="10") == error(
        "Terminating Device was not found")
    assert ask(api, s_destination_group="nope") == error("Destination Group was not found")
    assert ask(api, s_status="hungup") == error("Status value must be Ringing or Answered")
    assert ask(api, s_provider="99") == error("Provider was not found")
    assert ask(api, user="john", s_provider="5") == error("Provider was not found")
    assert ask(api, s_did="37000000") == error("Did was not found")
    wrong = api.post(URL, data={"u": "admin", "hash": "0" * 40})
    assert wrong.text == HEAD + "<error>Incorrect hash</error>\n"
    x14 = api.post("/api/active_calls_get", data={"u": "admin", "hash": mor_hash()})
    assert x14.text == NO_DATA  # the spec's example hash: the secret alone
