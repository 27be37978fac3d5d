"""The money methods against the real Kafka and ClickHouse: a balance update and payments
counted in the balance exactly once (also when their events are delivered again), a
payment waiting for confirmation, payments searched, invoices, credit notes and
subscriptions read back."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.hash import mor_hash
from cdrflow import payment_command
from cdrflow.settings import Settings
from projections.balance import balance
from projections.clickhouse import connect
from projections.payments import payments
from streams.account_events import account_event, encoded
from streams.invoice_events import ISSUED, PAID
from streams.publisher import publish_now
from streams.subscription_events import SERVICE_CREATED, SUBSCRIPTION_ADDED
from streams.topics import ACCOUNT_EVENTS
from tests.integration.conftest import SECRET
from tests.integration.support import read_topic, wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
OCT_1 = 1_790_812_800_000  # 2026-10-01 00:00 UTC (john's zone in the demo data is UTC)
NOV_1 = 1_793_491_200_000
ISSUED_MS = 1_795_430_400_000  # 2026-11-23 10:40:00 UTC
PAID_AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # the payments' moment


def call(client: TestClient, name: str, hashed: tuple[str, ...], /, **params: str) -> str:
    values = [params[key] for key in hashed if key in params]
    return client.post(f"/billing/api/{name}",
                       data={**params, "hash": mor_hash(values, SECRET)}).text


def balance_of(settings: Settings, user_id: int) -> Decimal:
    return balance(connect(settings.clickhouse), user_id)


def updated(username: str, user_id: int, shown: str) -> str:
    return (f"{HEAD}<page>\n  <page>\n    <status>User balance updated</status>\n"
            f"    <user>\n      <username>{username}</username>\n      <id>{user_id}</id>\n"
            f"      <balance>{shown}</balance>\n    </user>\n  </page>\n</page>\n")


def confirm(settings: Settings, user_id: int, payment_id: int) -> int:
    parser = argparse.ArgumentParser()
    payment_command.add_parser(parser.add_subparsers(dest="command"))
    return payment_command.run(settings, parser.parse_args(
        ["payment", "confirm", "--user", str(user_id), "--payment-id", str(payment_id)]))


def test_balance_updates_and_payments_count_once(sink: object, settings: Settings) -> None:
    app = create_app(settings.with_(api_payments=True), clock=lambda: PAID_AT)
    with TestClient(app) as api:
        update = ("user_balance_update", ("user_id", "balance"))
        assert call(api, *update, u="admin", user_id="2", balance="10") == updated(
            "john", 2, "10.0")
        wait_for(lambda: balance_of(settings, 2) == 10, 10, "the update in the balance")
        assert call(api, *update, u="admin", user_id="2", balance="-2.5") == updated(
            "john", 2, "7.5")
        wait_for(lambda: balance_of(settings, 2) == Decimal("7.5"), 10, "the second update")

        create = ("payment_create", ("user_id",))
        answer = call(api, *create, u="admin", user_id="2", p_currency="USD", amount="5",
                      paymenttype="paypal", payer_email="john@example.com",
                      transaction="T-1")
        assert "<status>ok</status>\n  <confirmed>1</confirmed>" in answer
        assert "<tax>0.0</tax>\n    <amount>5.0</amount>\n    <gross>5.0</gross>" in answer
        # the gateway retries the same transaction: the same payment, not a second one
        assert call(api, *create, u="admin", user_id="2", p_currency="USD", amount="5",
                    paymenttype="paypal", payer_email="john@example.com",
                    transaction="T-1") == answer
        wait_for(lambda: balance_of(settings, 2) == Decimal("12.5"), 10, "the payment")

    waiting = create_app(settings.with_(api_payments=True, api_payment_confirmation=True),
                         clock=lambda: PAID_AT)
    with TestClient(waiting) as api:
        answer = call(api, "payment_create", ("user_id",), u="admin", user_id="2",
                      p_currency="USD", amount="4", transaction="T-2")
        assert "<confirmed>0</confirmed>" in answer
        found = re.search(r"<payment_id>(\d+)</payment_id>", answer)
        assert found is not None
        pending = int(found[1])
    client = connect(settings.clickhouse)
    wait_for(lambda: any(p.payment_id == pending for p in payments(client, 2)), 10,
             "the waiting payment projected")
    assert balance_of(settings, 2) == Decimal("12.5")  # not confirmed: not counted
    assert confirm(settings, 2, pending) == 0
    wait_for(lambda: balance_of(settings, 2) == Decimal("16.5"), 10, "the confirmation")

    # every money event of john delivered again: the balance does not move
    records = [(key, value) for key, value in _account_records(settings)
               if key == b"2" and value is not None
               and orjson.loads(value).get("type") == "payment_created"]
    assert len(records) == 6  # 2 updates, the payment twice, the waiting one, its confirmation
    publish_now(settings, ACCOUNT_EVENTS, records)
    with TestClient(create_app(settings)) as api:  # a marker after the duplicates
        assert call(api, "user_balance_update", ("user_id", "balance"), u="admin",
                    user_id="3", balance="1") == updated("ann", 3, "1.0")
    wait_for(lambda: balance_of(settings, 3) == 1, 10, "the marker")
    assert balance_of(settings, 2) == Decimal("16.5")

    with TestClient(create_app(settings)) as api:
        search = ("payments_get", tuple(_search_names()))
        listed = call(api, *search, u="admin", s_user_id="2")
        assert listed.count("<payment>") == 4
        # one moment (the fixed clock): ordered by payment id, random
        assert sorted(re.findall(r"<amount>([^<]*)</amount>", listed)) == [
            "-2.5", "10.0", "4.0", "5.0"]
        assert listed.count("<user>John Smith</user>") == 4
        paypal = call(api, *search, u="admin", s_paymenttype="PayPal", s_username="JOH",
                      s_amount_min="4.5", s_amount_max="5", s_completed="1",
                      s_currency="usd")
        assert paypal.count("<payment>") == 1
        assert "<payer>john@example.com</payer>\n      <transaction_id>T-1</transaction_id>" \
            in paypal
        assert call(api, *search, u="john").count("<payment>") == 4  # a user: his own
        assert call(api, *search, u="ann").count("<payment>") == 1
        assert call(api, *search, u="admin", s_transaction="none") == (
            f"{HEAD}<page>\n  <payments></payments>\n</page>\n")


def _search_names() -> list[str]:
    from api.payment_methods import SEARCH

    return list(SEARCH)


def _account_records(settings: Settings) -> list[tuple[bytes | None, bytes | None]]:
    import asyncio

    return asyncio.run(read_topic(settings, ACCOUNT_EVENTS))


def _publish(settings: Settings, key: int, kind: str, **fields: Any) -> None:
    publish_now(settings, ACCOUNT_EVENTS, [encoded(key, account_event(kind, **fields))])


def test_invoices_credit_notes_statements_and_subscriptions(sink: object,
                                                            settings: Settings) -> None:
    _publish(settings, 2, ISSUED, invoice_id=2_202_610, user_id=2,
             number="INV-2026-10-000002", period_start_ms=OCT_1, period_end_ms=NOV_1,
             issued_ms=ISSUED_MS, calls_price="1.5", subscriptions_price="10",
             price="11.5", vat_percent="0", price_with_vat="11.5", currency="USD")
    _publish(settings, 2, PAID, invoice_id=2_202_610, user_id=2, paid_ms=ISSUED_MS + 1000)
    _publish(settings, 0, SERVICE_CREATED, service_id=5, name="Static IP", price="10.00",
             currency="USD")
    _publish(settings, 2, SUBSCRIPTION_ADDED, subscription_id=701, user_id=2, service_id=5,
             added_ms=OCT_1 - 5000, activation_start_ms=OCT_1, activation_end_ms=0)
    with TestClient(create_app(settings)) as api:
        invoices = ("invoices_get", ())
        wait_for(lambda: "<paid>1</paid>" in call(api, *invoices, u="admin"), 10,
                 "the paid invoice")
        assert call(api, *invoices, u="admin", **{"from": str(OCT_1 // 1000),
                                                  "till": str(NOV_1 // 1000)}) == (
            f'{HEAD}<Invoices from="2026-10-01 00:00:00" till="2026-11-01 00:00:00">\n'
            '  <Invoice user_id="2" number="INV-2026-10-000002"'
            ' period_start="2026-10-01 00:00:00" period_end="2026-10-31 23:59:59"'
            ' currency="USD" price="11.5" price_with_vat="11.5">\n'
            "    <id>2202610</id>\n    <paid>1</paid>\n"
            "    <Product>\n      <Name>Calls</Name>\n      <Quantity>1</Quantity>\n"
            "      <Price>1.5</Price>\n      <Discount>0.0</Discount>\n"
            "      <Sum>1.5</Sum>\n      <Date_added>2026-11-23 10:40:00</Date_added>\n"
            "      <Issue_date>2026-11-23 10:40:00</Issue_date>\n    </Product>\n"
            "    <Product>\n      <Name>Subscriptions</Name>\n      <Quantity>1</Quantity>\n"
            "      <Price>10.0</Price>\n      <Discount>0.0</Discount>\n"
            "      <Sum>10.0</Sum>\n      <Date_added>2026-11-23 10:40:00</Date_added>\n"
            "      <Issue_date>2026-11-23 10:40:00</Issue_date>\n    </Product>\n"
            "  </Invoice>\n</Invoices>\n")
        # the period must lie within from..till
        assert call(api, *invoices, u="admin", **{"from": str(OCT_1 // 1000 + 1)}) == (
            f"{HEAD}<Error>No invoices found</Error>\n")
        assert call(api, *invoices, u="ann") == f"{HEAD}<Error>No invoices found</Error>\n"

        before = balance_of(settings, 2)
        note = ("credit_note_create", ("user_id", "number"))
        created = f"{HEAD}<status>\n  <success>Credit note was created</success>\n</status>\n"
        assert call(api, *note, u="admin", user_id="2", number="CN-1", price="3",
                    issue_date="2026-11-24", comment="Outage") == created
        statement = ("financial_statements_get", ("user_id",))
        wait_for(lambda: "<count>1</count>\n      <price>3.0</price>" in call(
            api, *statement, u="admin", user_id="2"), 10, "the credit note projected")
        assert call(api, *note, u="admin", user_id="2", number="CN-1", price="3") == (
            f"{HEAD}<status>\n  <error>Credit note was not created</error>\n</status>\n")
        assert call(api, *statement, u="john", status="paid", date_from="2026-11-23",
                    date_till="2026-11-24") == (
            f'{HEAD}<page>\n  <financial_statement currency="USD">\n'
            '    <statement type="invoices">\n      <status>paid</status>\n'
            "      <count>1</count>\n      <price>11.5</price>\n"
            "      <price_with_vat>11.5</price_with_vat>\n    </statement>\n"
            '    <statement type="credit_notes">\n      <status>paid</status>\n'
            "      <count>0</count>\n      <price>0.0</price>\n"
            "      <price_with_vat>0.0</price_with_vat>\n    </statement>\n"
            '    <statement type="payments">\n      <status>paid</status>\n'
            "      <count>0</count>\n      <price>0.0</price>\n"
            "      <price_with_vat>0.0</price_with_vat>\n    </statement>\n"
            "  </financial_statement>\n</page>\n")
        assert balance_of(settings, 2) == before  # a credit note does not move the balance
        subscriptions = ("subscriptions_get", ("user_id",))
        wait_for(lambda: "<id>701</id>" in call(api, *subscriptions, u="admin"), 10,
                 "the subscription projected")
        assert call(api, *subscriptions, u="john") == (
            f"{HEAD}<page>\n  <subscriptions>\n    <subscription>\n      <id>701</id>\n"
            "      <user>John Smith</user>\n      <device></device>\n"
            "      <service>Static IP</service>\n      <from>2026-10-01 00:00:00</from>\n"
            "      <till></till>\n      <time_left></time_left>\n      <memo></memo>\n"
            "      <type>periodic</type>\n      <price>10.0</price>\n"
            "      <user_id>2</user_id>\n    </subscription>\n  </subscriptions>\n</page>\n")
        assert call(api, *subscriptions, u="ann") == (
            f"{HEAD}<page>\n  <status>\n    <error>No Subscriptions found</error>\n"
            "  </status>\n</page>\n")
