"""user_register over the real Kafka and ClickHouse: the registrant logs in at once, the
admin lists the new user, and the new device is the user's."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.hash import mor_hash
from cdrflow.settings import Settings
from tests.integration.conftest import SECRET
from tests.integration.support import wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
UNIQUEHASH = "kljsdfg54kl"
FORM = {"id": UNIQUEHASH, "username": "nora", "password": "nora-pass",
        "password2": "nora-pass", "first_name": "Nora", "last_name": "Newman",
        "country_id": "123", "email": "nora@example.com", "device_type": "SIP",
        "city": "Vilnius"}


@pytest.fixture
def registering(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.with_(api_registration=True, api_uniquehash=UNIQUEHASH))
    with TestClient(app) as client:
        yield client


def test_registration_is_off_by_default(sink: object, api: TestClient) -> None:
    assert api.post("/billing/api/registration", data=FORM).text == (
        f"{HEAD}<page>\n  <error>Registration over API is disabled</error>\n</page>\n")


def test_the_registrant_logs_in_at_once_and_is_listed(sink: object,
                                                      registering: TestClient) -> None:
    answer = registering.post("/billing/api/user_register", data=FORM).text
    found = re.fullmatch(
        re.escape(HEAD) + "<page>\n  <status>Registration successful</status>\n"
        "  <user_device_settings>\n    <device_type>SIP</device_type>\n"
        "    <username>([0-9]+)</username>\n    <password></password>\n"
        "    <pin>([0-9]{6})</pin>\n    <server_ip></server_ip>\n"
        "  </user_device_settings>\n</page>\n", answer)
    assert found is not None, answer
    device_id, pin = found.groups()

    login = registering.post("/billing/api/user_login", data={"u": "nora", "p": "nora-pass"})
    assert "<status>ok</status>" in login.text
    wrong = registering.post("/billing/api/user_login", data={"u": "nora", "p": "nora-pas"})
    assert "<status>failed</status>" in wrong.text

    users = registering.post("/billing/api/users_get", data={
        "u": "admin", "hash": mor_hash([], SECRET)}).text
    listed = re.search(r"<user>\n        <id>([0-9]+)</id>\n        <username>nora</username>\n"
                       r"        <first_name>Nora</first_name>\n"
                       r"        <last_name>Newman</last_name>\n"
                       r"        <balance>0\.0000</balance>\n        <blocked>0</blocked>\n"
                       r"        <lcr_id></lcr_id>\n        <tariff_id>1</tariff_id>\n"
                       r"        <owner_id>0</owner_id>\n        <usertype>user</usertype>\n",
                       users)
    assert listed is not None, users
    user_id = listed.group(1)

    again = registering.post("/billing/api/registration", data=FORM).text
    assert again == f"{HEAD}<page>\n  <error>Such username is already taken</error>\n</page>\n"

    def devices() -> str:
        return registering.post("/billing/api/devices_get", data={
            "u": "admin", "user_id": user_id, "hash": mor_hash([user_id], SECRET)}).text

    wait_for(lambda: f"<device_id>{device_id}</device_id>" in devices(), 10,
             "the new device listed")
    assert devices() == (
        f"{HEAD}<page>\n  <devices>\n    <device>\n      <device_id>{device_id}</device_id>\n"
        "      <device_type>SIP</device_type>\n      <devicegroup_id></devicegroup_id>\n"
        "      <primary_device>0</primary_device>\n"
        f"      <username>{device_id}</username>\n      <secret></secret>\n"
        "      <ipaddr></ipaddr>\n      <port></port>\n      <callerid></callerid>\n"
        "    </device>\n  </devices>\n</page>\n")
    details = registering.post("/billing/api/device_details_get", data={
        "u": "admin", "device_id": device_id, "hash": mor_hash([device_id], SECRET)}).text
    assert f"<pin>{pin}</pin>" in details and f"<user_id>{user_id}</user_id>" in details

    card = registering.post("/billing/api/user_details_get", data={
        "u": "admin", "user_id": user_id, "hash": mor_hash([user_id], SECRET)}).text
    wait_for(lambda: "<reg_email>nora@example.com</reg_email>" in registering.post(
        "/billing/api/user_details_get", data={
            "u": "admin", "user_id": user_id, "hash": mor_hash([user_id], SECRET)}).text,
        10, "the personal details projected")
    assert "<account>Prepaid</account>" in card and "<credit>0.0000</credit>" in card
