"""Faxes from the switch to the Faxes page, through the real Kafka, worker, sink and ClickHouse.

John (user 2) gets a FAX device (12, FAX/202) and two faxes, one of them delivered twice;
Ann (user 3) gets one. John's page must list his two faxes once each, filter them by
status and device, and refuse Ann's page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest
from starlette.testclient import TestClient

from api.app import create_app
from cdrflow.settings import Settings
from projections.clickhouse import connect
from streams.account_events import account_event, encoded
from streams.events import SCHEMA, FaxReceived, encode
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS, CALL_EVENTS, DEAD_LETTERS, FAXES, group_lag
from tests.integration.support import Processes, log_in, read_topic, wait_for

pytestmark = pytest.mark.integration

T0 = 1_795_168_800_000  # 2026-11-20 10:00:00 UTC
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'

FAX_A = FaxReceived("fax-a", T0 + 250, 2, 12, "37052000999", "invoice & order.pdf", 2,
                    "received")
FAX_B = FaxReceived("fax-b", T0 + 300_000, 2, 12, "", "", 0, "failed")
FAX_ANN = FaxReceived("fax-ann", T0 + 60_000, 3, 11, "37052000201", "ann.pdf", 1, "received")
BAD_FAX = orjson.dumps({"schema": SCHEMA, "type": "fax_received", "call_id": "fax-bad",
                        "ts_ms": T0, "user_id": 2, "device_id": 12, "sender": "",
                        "filename": "", "pages": 1, "status": "lost"})
FAX_DEVICE = account_event("device_created", device_id=12, user_id=2, device_type="FAX",
                           name="john-fax", extension="202")


def fax_xml(receive_time: str, filename: str, sender: str, status: str) -> str:
    return ("  <fax>\n   <device>FAX/202</device>\n"
            f"   <filename>{filename}</filename>\n"
            f"   <receive_time>{receive_time}</receive_time>\n"
            f"   <sender>{sender}</sender>\n   <status>{status}</status>\n  </fax>\n")


A_XML = fax_xml("2026-11-20 10:00:00", "invoice &amp; order.pdf", "37052000999", "Received")
B_XML = fax_xml("2026-11-20 10:05:00", "", "", "Failed")


def expected(faxes: str, show_device: str = "all",
             period: tuple[str, str] = ("2026-11-20 00:00:00", "2026-11-20 23:59:59")) -> str:
    return (
        f"{HEAD}<page>\n <pagename>Faxes</pagename>\n <language>en</language>\n"
        " <error_msg></error_msg>\n <userid>2</userid>\n"
        f" <show_device>{show_device}</show_device>\n <username>John Smith</username>\n"
        " <aval_languages>\n  <language>en</language>\n </aval_languages>\n"
        " <faxes>\n  <period>\n"
        f"   <period_start>{period[0]}</period_start>\n"
        f"   <period_end>{period[1]}</period_end>\n"
        f"  </period>\n{faxes} </faxes>\n</page>\n"
    )


def fax_record(fax: FaxReceived) -> tuple[bytes, bytes]:
    return fax.call_id.encode(), encode(fax)


def fax_count(settings: Settings) -> int:
    return int(connect(settings.clickhouse).execute("SELECT count() FROM faxes FINAL")[0][0])


@pytest.fixture(scope="module")
def delivered(settings: Settings, pipeline: Processes) -> Processes:
    asyncio.run(publish(settings, ACCOUNT_EVENTS, [encoded(2, FAX_DEVICE)]))
    asyncio.run(publish(settings, CALL_EVENTS, [
        fax_record(FAX_A), fax_record(FAX_B), fax_record(FAX_ANN), (b"fax-bad", BAD_FAX)]))
    wait_for(lambda: fax_count(settings) == 3, 120, "3 faxes in ClickHouse", pipeline)
    asyncio.run(publish(settings, CALL_EVENTS, [fax_record(FAX_A)]))  # the switch repeats

    def all_consumed() -> bool:
        return len(asyncio.run(read_topic(settings, FAXES))) == 4 and asyncio.run(
            group_lag(settings, f"{settings.app_id}-sink-faxes", FAXES)) == 0

    wait_for(all_consumed, 60, "the repeated fax forwarded and projected", pipeline)
    client = connect(settings.clickhouse)
    wait_for(lambda: client.execute("SELECT count() FROM devices FINAL WHERE device_id = 12")
             [0][0] == 1, 60, "the FAX device projected", pipeline)
    return pipeline


@pytest.fixture
def john(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=lambda: NOON)) as client:
        log_in(client)
        yield client


def test_the_page_lists_each_fax_once(delivered: Processes, john: TestClient,
                                      settings: Settings) -> None:
    assert fax_count(settings) == 3
    assert john.get("/stats/faxes_list/2").text == expected(A_XML + B_XML)
    # POST "Change period" with days or epoch seconds
    assert john.post("/stats/faxes_list/2", data={
        "search_on": "1", "period_start": "2026-11-20", "period_end": "2026-11-20",
        "fax_status": "all", "device_id": "all"}).text == expected(A_XML + B_XML)
    assert john.post("/stats/faxes_list/2", data={
        "period_start": "1795168801", "period_end": "1795219199"}).text == expected(
        B_XML, period=("2026-11-20 10:00:01", "2026-11-20 23:59:59"))
    assert john.post("/stats/faxes_list/2", data={
        "period_start": "2026-11-21", "period_end": "2026-11-21"}).text == expected(
        "", period=("2026-11-21 00:00:00", "2026-11-21 23:59:59"))


def test_status_and_device_filters(delivered: Processes, john: TestClient) -> None:
    def faxes(**data: str) -> str:
        return john.post("/stats/faxes_list/2", data={"search_on": "1", **data}).text

    assert faxes(fax_status="failed") == expected(B_XML)
    assert faxes(fax_status="received", device_id="12") == expected(A_XML, show_device="12")
    assert faxes(device_id="12") == expected(A_XML + B_XML, show_device="12")
    assert faxes(device_id="10") == expected("", show_device="10")
    assert faxes(fax_status="empty") == expected("")
    assert faxes(fax_status="lost") == f"{HEAD}<error>Invalid parameter: fax_status</error>\n"
    assert faxes(period_start="2026-02-30") == (
        f"{HEAD}<error>Invalid parameter: period_start</error>\n")
    assert faxes(device_id="FAX/202") == f"{HEAD}<error>Invalid parameter: device_id</error>\n"


def test_other_users_faxes_are_refused(delivered: Processes, john: TestClient,
                                       settings: Settings) -> None:
    refused = f"{HEAD}<error>User was not found</error>\n"
    assert john.get("/stats/faxes_list/3").text == refused
    assert john.post("/stats/faxes_list/3", data={"search_on": "1"}).text == refused
    assert john.get("/stats/faxes_list/77").text == refused
    with TestClient(create_app(settings, clock=lambda: NOON)) as anonymous:
        assert "<error_msg>Please log in</error_msg>" in anonymous.get(
            "/stats/faxes_list/2").text
    with TestClient(create_app(settings, clock=lambda: NOON)) as admin:
        admin.post("/billing/api/login", data={"u": "admin", "p": "admin-demo"})
        page = admin.get("/stats/faxes_list/3").text
        assert ("<userid>3</userid>" in page and "<username>Ann Jones</username>" in page
                and "<device>SIP/301</device>" in page and "ann.pdf" in page)


def test_a_bad_fax_is_a_dead_letter_with_its_reason(settings: Settings,
                                                    delivered: Processes) -> None:
    letters = [orjson.loads(v or b"") for _, v in asyncio.run(read_topic(settings, DEAD_LETTERS))]
    assert [(d["key"], d["reason"]) for d in letters] == [(
        "fax-bad",
        "fax_received: field status must be one of received, failed, empty, not_fax, "
        "not 'lost'")]
