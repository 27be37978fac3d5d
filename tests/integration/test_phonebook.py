"""Logging in and keeping a phonebook, against the real Kafka and ClickHouse."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.phonebook import entries
from tests.integration.support import wait_for

pytestmark = pytest.mark.integration

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def action(name: str, ok: bool, message: str) -> str:
    return (f"{HEAD}<action>\n <name>{name}</name>\n <status>{'ok' if ok else 'failed'}</status>\n"
            f" <status_message>{message}</status_message>\n</action>\n")


def login(api: TestClient, username: str, password: str) -> str:
    return api.post("/billing/api/login", data={"u": username, "p": password}).text


def phonebook(api: TestClient, user_id: int = 2) -> str:
    return api.get(f"/phonebooks/list/{user_id}").text


def test_login_then_add_list_and_delete_entries(sink: object, api: TestClient,
                                                 settings: Settings) -> None:
    assert "<error_msg>Please log in</error_msg>" in phonebook(api)
    assert login(api, "john", "wrong") == action("login", False, "Login failed")
    assert login(api, "nobody", "john-demo") == action("login", False, "Login failed")
    assert login(api, "john", "john-demo") == action("login", True, "Succesfully logged in")

    added = action("add_phonebook_entry", True, "Record added")
    assert api.post("/phonebooks/add_new/2", data={"number": "37061234567",
                                                   "name": "Ann <mobile>"}).text == added
    assert api.post("/phonebooks/add_new/2", data={"number": "442071234567",
                                                   "name": "London office"}).text == added
    assert api.post("/phonebooks/add_new/2", data={"number": " ", "name": "x"}).text == action(
        "add_phonebook_entry", False, "Please fill all fields")
    assert api.post("/phonebooks/add_new/3", data={"number": "1", "name": "x"}).text == action(
        "add_phonebook_entry", False, "User was not found")  # ann's phonebook is not john's

    wait_for(lambda: phonebook(api).count("<entry>") == 2, 1.0, "entries visible within 1 s")
    page = re.sub(r"<entry_added>[^<]*</entry_added>", "<entry_added>T</entry_added>",
                  phonebook(api))
    assert page == (
        f"{HEAD}<page>\n <pagename>Phonebook</pagename>\n <language>en</language>\n"
        " <userid>2</userid>\n <entries>\n"
        "  <entry>\n   <entry_number>37061234567</entry_number>\n"
        "   <entry_name>Ann &lt;mobile&gt;</entry_name>\n   <entry_added>T</entry_added>\n"
        "  </entry>\n"
        "  <entry>\n   <entry_number>442071234567</entry_number>\n"
        "   <entry_name>London office</entry_name>\n   <entry_added>T</entry_added>\n"
        "  </entry>\n"
        " </entries>\n</page>\n"
    )

    first = entries(connect(settings.clickhouse), 2)[0]
    assert api.post(f"/phonebooks/destroy/{first.entry_id}").text == action(
        "delete_phonebook_entry", True, "Record deleted")
    wait_for(lambda: phonebook(api).count("<entry>") == 1, 1.0, "deletion visible within 1 s")
    assert "London office" in phonebook(api)
    assert api.post("/phonebooks/destroy/12345").text == action(
        "delete_phonebook_entry", False, "We're sorry, but something went wrong")

    assert api.get("/billing/api/logout").text == action("logout", True, "Successfully logged out")
    assert "<error_msg>Please log in</error_msg>" in phonebook(api)
