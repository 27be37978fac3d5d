"""Personal details, payments and the balance, against the real Kafka and ClickHouse."""

from __future__ import annotations

import argparse
import re
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from cdrflow import payment_command
from cdrflow.demo_data import DEMO_PASSWORDS
from cdrflow.settings import Settings
from projections.balance import balance
from projections.clickhouse import connect
from projections.rows import cdr_row
from projections.writer import insert
from rating.cdr import Cdr
from tests.integration.support import wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
ANN = {"reg_country": "Lithuania"}
PAID_MS = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC
FORM = {
    "username": "John", "surname": "Smith", "personalid": "AB 123", "agreement_number": "A-7",
    "agreement_date": "2008-03-11", "taxation_country": "Uzbekistan", "vat_reg_number": "",
    "reg_address": "Address & Co", "reg_postcode": "700100", "reg_city": "Tashkent",
    "reg_country": "Uzbekistan", "reg_state": "", "reg_direction": "Uzbekistan",
    "reg_phone": "998975551234", "reg_mobile": "998975551235", "reg_fax": "998975551236",
    "reg_email": "john@voip.com",
}


def action(ok: bool, message: str) -> str:
    return (f"{HEAD}<action>\n <name>edit_personal</name>\n"
            f" <status>{'ok' if ok else 'failed'}</status>\n"
            f" <status_message>{message}</status_message>\n</action>\n")


def details_page(balance: str, fields: dict[str, str], user_id: int = 2, alias: str = "201",
                 names: tuple[str, str] = ("John", "Smith")) -> str:
    value = {name: fields.get(name, "") for name in FORM}
    for name in ("reg_address",):
        value[name] = value[name].replace("&", "&amp;")
    registration = "".join(f"   <{name}>{value[name]}</{name}>\n" for name in FORM
                           if name.startswith("reg_"))
    return (
        f"{HEAD}<page>\n <pagename>Personal details</pagename>\n <language>en</language>\n"
        f" <userid>{user_id}</userid>\n <details>\n  <main_details>\n"
        f"   <alias>{alias}</alias>\n   <account>Postpaid</account>\n"
        f"   <balance>{balance}</balance>\n   <credit>No Limit</credit>\n"
        "  </main_details>\n  <other_details>\n"
        f"   <username>{names[0]}</username>\n   <surname>{names[1]}</surname>\n"
        f"   <personalid>{value['personalid']}</personalid>\n"
        f"   <agreement_number>{value['agreement_number']}</agreement_number>\n"
        f"   <agreement_date>{value['agreement_date']}</agreement_date>\n"
        f"   <taxation_country>{value['taxation_country']}</taxation_country>\n"
        f"   <vat_reg_number>{value['vat_reg_number']}</vat_reg_number>\n"
        "   <vat_percent>0.0</vat_percent>\n"
        f"  </other_details>\n  <registration>\n{registration}  </registration>\n"
        " </details>\n</page>\n"
    )


def login(api: TestClient, username: str) -> None:
    answer = api.post("/billing/api/login", data={"u": username, "p": DEMO_PASSWORDS[username]})
    assert "<status>ok</status>" in answer.text


def details(api: TestClient, path: str = "/users/personal_details") -> str:
    return api.get(path).text


def add_payment(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    payment_command.add_parser(parser.add_subparsers(dest="command"))
    return payment_command.run(settings, parser.parse_args(["payment", "add", *argv]))


def cdr(call_id: str, price: str, version: int = 1, user_id: int = 2) -> Cdr:
    return Cdr(call_id=call_id, version=version, start_ms=PAID_MS + 60_000,
               answer_ms=PAID_MS + 65_000, end_ms=PAID_MS + 125_000, user_id=user_id,
               device_id=10, server_id=1, uniqueid=call_id, channel="SIP/201-1",
               src="37052000201", dst="37061234567", clid="37052000201",
               disposition="ANSWERED", hangup_cause=16, duration=65, billsec=60,
               user_billsec=60, prefix="3706", destination="Lithuania MOB", tariff_id=1,
               tariff_version=1, currency="USD", user_rate=Decimal("0.25"),
               user_price=Decimal(price))


def test_personal_details_are_shown_and_changed(sink: object, api: TestClient) -> None:
    assert "<error_msg>Please log in</error_msg>" in details(api)
    login(api, "john")
    assert details(api) == details_page("0 USD", {})

    assert api.post("/users/update_personal_details/2", data=FORM).text == action(
        True, "Personal details changed")
    wait_for(lambda: "Tashkent" in details(api), 1.0, "the change visible within 1 s")
    assert details(api) == details_page("0 USD", FORM)

    # a field left out keeps its value; one sent empty is emptied
    assert api.post("/users/update_personal_details/2",
                    data={"reg_city": "Samarkand", "agreement_number": ""}).text == action(
        True, "Personal details changed")
    wait_for(lambda: "Samarkand" in details(api), 1.0, "the second change within 1 s")
    assert details(api) == details_page(
        "0 USD", {**FORM, "reg_city": "Samarkand", "agreement_number": ""})

    refused = {
        "agreement_date must be a date like 2008-03-11": {"agreement_date": "11/03/2008"},
        "reg_email is too long (max 255 characters)": {"reg_email": "x" * 256},
        "First name and surname can not be changed here": {"username": "Johnny"},
    }
    for message, form in refused.items():
        assert api.post("/users/update_personal_details/2", data=form).text == action(
            False, message)
    assert api.post("/users/update_personal_details/3", data=FORM).text == action(
        False, "User was not found")  # ann's details are not john's
    assert details(api, "/users/personal_details/3") == (
        f"{HEAD}<error>User was not found</error>\n")

    api.get("/billing/api/logout")
    login(api, "admin")  # the admin sees and changes everyone's
    assert details(api, "/users/personal_details/3") == details_page(
        "0 USD", {}, user_id=3, alias="301", names=("Ann", "Jones"))
    assert api.post("/users/update_personal_details/3",
                    data={"reg_country": "Lithuania"}).text == action(
        True, "Personal details changed")
    wait_for(lambda: "Lithuania" in details(api, "/users/personal_details/3"), 1.0,
             "the admin's change within 1 s")

    # saves in a row: each answer waits until its change is projected, so the next one
    # (which carries every detail) is built on it
    for form in ({"reg_city": "Kaunas"}, {"reg_phone": "37060000000"}, {"reg_fax": "1"}):
        assert api.post("/users/update_personal_details/3", data=form).text == action(
            True, "Personal details changed")
    assert details(api, "/users/personal_details/3") == details_page(
        "0 USD", {"reg_country": "Lithuania", "reg_city": "Kaunas", "reg_phone": "37060000000",
                  "reg_fax": "1"}, user_id=3, alias="301", names=("Ann", "Jones"))
    assert api.post("/users/update_personal_details/3", data={
        "reg_city": "", "reg_phone": "", "reg_fax": ""}).text == action(
        True, "Personal details changed")  # as the next test expects ann's


def test_payments_and_calls_make_the_balance(sink: object, api: TestClient,
                                             settings: Settings) -> None:
    client = connect(settings.clickhouse)
    login(api, "ann")  # (whose registration country the admin set above)
    assert api.get("/payments/personal_payments").text == (
        f"{HEAD}<page>\n <pagename>Payments</pagename>\n <language>en</language>\n"
        " <userid>3</userid>\n <payments></payments>\n</page>\n")

    paid = ["--user", "3", "--amount", "10", "--vat", "15", "--paid-at", str(PAID_MS),
            "--payment-id", "501"]
    assert add_payment(settings, *paid) == 0
    assert add_payment(settings, *paid) == 0  # the same payment again: still one
    assert add_payment(settings, "--user", "3", "--amount", "2.50", "--currency", "usd",
                       "--type", "paypal", "--paid-at", str(PAID_MS + 1000),
                       "--not-confirmed", "--not-completed", "--payment-id", "502") == 0
    assert add_payment(settings, "--user", "3", "--amount", "5", "--currency", "EUR") == 1

    wait_for(lambda: "<balance>10 USD</balance>" in details(api), 1.0,
             "the payment in the balance within 1 s")
    wait_for(lambda: api.get("/payments/personal_payments").text.count("<payment>") == 2, 1.0,
             "both payments listed within 1 s")
    assert details(api) == details_page("10 USD", ANN, user_id=3, alias="301",
                                        names=("Ann", "Jones"))
    payments = re.sub(r"<confirmed_date>\d{4}-[^<]+</confirmed_date>",
                      "<confirmed_date>T</confirmed_date>",
                      api.get("/payments/personal_payments").text)
    assert payments == (
        f"{HEAD}<page>\n <pagename>Payments</pagename>\n <language>en</language>\n"
        " <userid>3</userid>\n <payments>\n"
        "  <payment>\n   <payment_date>2023-11-14 22:13:20</payment_date>\n"
        "   <confirmed_date>T</confirmed_date>\n   <payment_type>Manual</payment_type>\n"
        "   <amount>10</amount>\n   <vat>15.0</vat>\n   <amount_vat>11.5</amount_vat>\n"
        "   <currency>USD</currency>\n   <completed>Yes</completed>\n  </payment>\n"
        "  <payment>\n   <payment_date>2023-11-14 22:13:21</payment_date>\n"
        "   <confirmed_date></confirmed_date>\n   <payment_type>Paypal</payment_type>\n"
        "   <amount>2.5</amount>\n   <vat>0.0</vat>\n   <amount_vat>2.5</amount_vat>\n"
        "   <currency>USD</currency>\n   <completed>No</completed>\n  </payment>\n"
        " </payments>\n</page>\n"
    )
    assert balance(client, 3) == Decimal(10)

    calls = [cdr_row(cdr("bal-1", "0.25", user_id=3)), cdr_row(cdr("bal-2", "1.5", user_id=3)),
             cdr_row(cdr("bal-other", "7", user_id=2))]
    insert(client, "cdrs", calls)
    assert balance(client, 3) == Decimal("8.25")
    insert(client, "cdrs", calls)  # the same batch delivered twice changes nothing
    assert balance(client, 3) == Decimal("8.25")
    assert details(api) == details_page("8.25 USD", ANN, user_id=3, alias="301",
                                        names=("Ann", "Jones"))
    # a call rated again (a higher version) is charged once, at its last price
    insert(client, "cdrs", [cdr_row(cdr("bal-1", "0.3", version=2, user_id=3))])
    assert balance(client, 3) == Decimal("8.2")

    # the completed payment re-recorded as not completed leaves only the calls
    assert add_payment(settings, *paid, "--not-completed") == 0
    wait_for(lambda: "<balance>-1.8 USD</balance>" in details(api), 1.0,
             "the replaced payment within 1 s")
    assert balance(client, 3) == Decimal("-1.8")
