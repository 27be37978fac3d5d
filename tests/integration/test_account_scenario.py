"""A user's month, end to end, then every projection rebuilt from the topics.

John logs in; the operator adds him a softphone; the admin forwards its calls through
the API; John keeps a phonebook; he makes calls in October that the worker rates; the
operator records his payment and issues October's invoice. Every page shows what it
should, and a second sink with its own consumer group, replaying the same topics into
an empty database, rebuilds tables and pages that are identical.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.callflow import HASHED
from api.hash import mor_hash
from cdrflow.settings import Settings
from projections import writer
from projections.balance import balance
from projections.clickhouse import connect, migrate
from streams.events import CallAnswered, CallEnded, CallEvent, CallStarted, encode
from streams.publisher import publish
from streams.topics import CALL_EVENTS
from tests.integration.conftest import SECRET
from tests.integration.support import Processes, wait_for

pytestmark = pytest.mark.integration

OCT_20 = 1_792_490_400_000  # 2026-10-20 10:00:00 UTC
PAGES = ("/devices/user_devices", "/devices/callflow/12", "/phonebooks/list",
         "/users/personal_details", "/payments/personal_payments",
         "/accounting/user_invoices")


def cdrflow(settings: Settings, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "cdrflow.cli", *args], text=True,
                          capture_output=True, env={**os.environ, **settings.to_env()},
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def october_call(call_id: str, dst: str, billsec: int, start_ms: int) -> list[CallEvent]:
    answer = start_ms + 5_000
    return [CallStarted(call_id, start_ms, 2, 10, 1, "37052000201", dst, "37052000201",
                        f"SIP/201-{call_id}", f"{start_ms // 1000}.0"),
            CallAnswered(call_id, answer),
            CallEnded(call_id, answer + billsec * 1000, 16, billsec, billsec + 5)]


def logged_in(settings: Settings) -> TestClient:
    client = TestClient(create_app(settings))
    client.__enter__()
    wait_for(lambda: "<status>ok</status>" in client.post(
        "/billing/api/login", data={"u": "john", "p": "john-demo"}).text, 60,
        "john can log in (his user projected)")
    return client


def pages(client: TestClient) -> dict[str, str]:
    return {url: client.get(url).text for url in PAGES}


def table_rows(settings: Settings) -> dict[str, list[tuple[object, ...]]]:
    client = connect(settings.clickhouse)
    return {table: sorted(map(tuple, client.execute(f"SELECT * FROM {table} FINAL")), key=repr)
            for table in writer.TABLES}


def test_a_users_month_and_its_replay(settings: Settings, pipeline: Processes) -> None:
    john = logged_in(settings)
    admin = TestClient(create_app(settings))
    admin.__enter__()

    # the operator adds a softphone; the admin forwards its unanswered calls
    cdrflow(settings, "device", "add", "--id", "12", "--user", "2", "--type", "IAX2",
            "--extension", "202", "--description", "John's softphone")
    wait_for(lambda: "John&apos;s softphone" in john.get("/devices/user_devices").text
             or "John's softphone" in john.get("/devices/user_devices").text, 10,
             "the softphone on the devices page", pipeline)
    forward = {"device_id": "12", "callflow_action": "forward", "state": "no_answer",
               "external_number": "37061234567"}
    answer = admin.post("/billing/api/device_callflow_update", data={
        "u": "admin", **forward,
        "hash": mor_hash([forward[n] for n in HASHED if n in forward], SECRET)}).text
    assert "<status>Callflow was successfully updated</status>" in answer
    wait_for(lambda: "37061234567" in john.get("/devices/callflow/12").text, 2,
             "the forward on the callflow page", pipeline)

    # John's phonebook
    for number, name in (("37061234567", "Ann"), ("442071234567", "London office")):
        assert "<status>ok</status>" in john.post(
            "/phonebooks/add_new/2", data={"number": number, "name": name}).text
    wait_for(lambda: john.get("/phonebooks/list").text.count("<entry>") == 2, 2,
             "two phonebook entries", pipeline)

    # October's calls: 3706 at 0.25/min for 60 s = 0.25; 447 at 0.02 + 0.18 x 61/60 =
    # 0.203; together 0.453
    calls = [*october_call("oct-1", "37061234567", 60, OCT_20),
             *october_call("oct-2", "447700900123", 61, OCT_20 + 3_600_000)]
    asyncio.run(publish(settings, CALL_EVENTS, [(e.call_id.encode(), encode(e)) for e in calls]))
    clickhouse = connect(settings.clickhouse)
    wait_for(lambda: clickhouse.execute(
        "SELECT count() FROM cdrs FINAL WHERE user_id = 2")[0][0] == 2, 120,
        "October's two CDRs", pipeline)

    # a payment of 20: the balance is 20 - 0.453 = 19.547
    cdrflow(settings, "payment", "add", "--user", "2", "--amount", "20", "--payment-id", "77")
    wait_for(lambda: balance(clickhouse, 2) == Decimal("19.547"), 10, "the balance", pipeline)
    details = john.get("/users/personal_details").text
    assert "<balance>19.547 USD</balance>" in details
    assert "<credit>No Limit</credit>" in details
    assert re.search(r"<payment>.*<amount>20</amount>.*</payment>",
                     john.get("/payments/personal_payments").text, re.S)

    # October's invoice: the calls, no subscriptions, no VAT for John
    cdrflow(settings, "invoices", "issue", "--period", "2026-10", "--user", "2")
    wait_for(lambda: "<invoice>" in john.get("/accounting/user_invoices").text, 10,
             "the invoice", pipeline)
    invoice = john.get("/accounting/user_invoices").text
    assert "<price>0.453</price>" in invoice and "<price_vat>0.453</price_vat>" in invoice

    # every projection rebuilt from the topics by a sink of its own
    before_pages, before_rows = pages(john), table_rows(settings)
    run = uuid.uuid4().hex[:8]
    rebuilt = replace(settings, clickhouse=replace(settings.clickhouse,
                                                   database=f"cdrflow_replay_{run}"),
                      app_id=f"cdrflow-replay-{run}")
    migrate(rebuilt.clickhouse)
    (settings.data_dir / "replay").mkdir(exist_ok=True)
    replay = Processes(rebuilt, settings.data_dir / "replay")
    replay.start("sink")
    try:
        wait_for(lambda: table_rows(rebuilt) == before_rows, 60,
                 "the replayed tables equal the live ones", replay)
        john_again = logged_in(rebuilt)
        assert pages(john_again) == before_pages
        john_again.__exit__(None, None, None)
    finally:
        replay.stop_all()
        connect(rebuilt.clickhouse, database="default").execute(
            f"DROP DATABASE IF EXISTS `{rebuilt.clickhouse.database}`")
        john.__exit__(None, None, None)
        admin.__exit__(None, None, None)
