"""phonebooks_get and phonebook_edit over an in-memory reader, as each role; the
phonebook events with and without a speed dial."""

from __future__ import annotations

import pytest

from projections.phonebook import rows
from streams.account_events import parse_account_event
from streams.phonebook_events import PhonebookEntry
from tests.unit.test_device_methods import NOW, Api, page, page_error

JOHNS = page(
    "  <phonebooks>\n"
    "    <phonebook>\n      <id>7001</id>\n      <name>Ann &lt;mobile&gt;</name>\n"
    "      <number>37061234567</number>\n      <speeddial>1</speeddial>\n    </phonebook>\n"
    "    <phonebook>\n      <id>7002</id>\n      <name>London office</name>\n"
    "      <number>442071234567</number>\n      <speeddial></speeddial>\n    </phonebook>\n"
    "  </phonebooks>\n")
GET = ("user_id",)
EDIT = ("phonebook_id",)


@pytest.mark.parametrize("caller", ["admin", "john", "accountant"])
@pytest.mark.parametrize("method", ["phonebooks_get", "phonebooks"])
def test_phonebooks_get(caller: str, method: str) -> None:
    assert Api().call(method, caller, GET, {"user_id": "2"}) == JOHNS


def test_reseller_reads_his_users_phonebook() -> None:
    answer = Api().call("phonebooks_get", "reseller", GET, {"user_id": "4"})
    assert answer == page("  <phonebooks>\n    <phonebook>\n      <id>7003</id>\n"
                          "      <name>Bob</name>\n      <number>37060000000</number>\n"
                          "      <speeddial></speeddial>\n    </phonebook>\n"
                          "  </phonebooks>\n")


@pytest.mark.parametrize(("caller", "params", "text"), [
    ("admin", {"user_id": "3"}, "No Phonebooks found"),
    ("admin", {"user_id": "99"}, "User was not found"),
    ("admin", {}, "User was not found"),
    ("john", {"user_id": "4"}, "User was not found"),
    ("reseller", {"user_id": "2"}, "User was not found"),
])
def test_phonebooks_get_errors(caller: str, params: dict[str, str], text: str) -> None:
    assert Api().call("phonebooks_get", caller, GET, params) == page_error(text)


def test_phonebooks_get_wrong_hash() -> None:
    answer = Api().http.post("/billing/api/phonebooks_get",
                             data={"u": "john", "user_id": "2", "hash": "1" * 40})
    assert answer.text == page_error("Incorrect hash")


@pytest.mark.parametrize(("caller", "entry", "owner"), [
    ("admin", "7001", 2), ("john", "7001", 2), ("reseller", "7003", 4)])
def test_phonebook_edit_appends_the_whole_entry(caller: str, entry: str, owner: int) -> None:
    api = Api()
    answer = api.call("phonebook_edit", caller, EDIT,
                      {"phonebook_id": entry, "name": " Ann ", "speeddial": "12"})
    number = "37061234567" if entry == "7001" else "37060000000"
    assert answer == page(
        "  <status>Phonebook was updated</status>\n"
        f"  <phonebook>\n    <id>{entry}</id>\n    <name>Ann</name>\n"
        f"    <number>{number}</number>\n    <speeddial>12</speeddial>\n  </phonebook>\n")
    [(topic, key, event)] = api.appender.events
    assert (topic, key) == ("account-events", str(owner).encode())
    now_ms = int(NOW.timestamp() * 1000)
    assert event == {"schema": "cdrflow.account-event/1", "type": "phonebook_entry_updated",
                     "entry_id": int(entry), "user_id": owner, "number": number,
                     "name": "Ann", "speeddial": "12", "added_ms": now_ms,
                     "updated_ms": now_ms}
    assert parse_account_event(event) == PhonebookEntry(int(entry), owner, number, "Ann",
                                                        now_ms, speeddial="12")


@pytest.mark.parametrize(("caller", "params", "text"), [
    ("admin", {"phonebook_id": "1"}, "Phonebook was not found"),
    ("admin", {}, "Phonebook was not found"),
    ("john", {"phonebook_id": "7003"}, "Phonebook was not found"),
    ("reseller", {"phonebook_id": "7001"}, "Phonebook was not found"),
    ("accountant", {"phonebook_id": "7001"}, "Phonebook was not found"),
    ("admin", {"phonebook_id": "7001", "speeddial": "x1"}, "Invalid parameter: speeddial"),
    ("admin", {"phonebook_id": "7001", "number": "1" * 41}, "Invalid parameter: number"),
    ("admin", {"phonebook_id": "7001", "name": "n" * 201}, "Invalid parameter: name"),
])
def test_phonebook_edit_errors(caller: str, params: dict[str, str], text: str) -> None:
    api = Api()
    assert api.call("phonebook_edit", caller, EDIT, params) == page_error(text)
    assert api.appender.events == []


def test_old_events_without_speeddial_still_parse_and_project() -> None:
    old = {"schema": "cdrflow.account-event/1", "type": "phonebook_entry_added",
           "entry_id": 1, "user_id": 2, "number": "370", "name": "Ann", "added_ms": 0}
    entry = parse_account_event(old)
    assert entry == PhonebookEntry(1, 2, "370", "Ann", 0, speeddial="")
    [(table, row)] = list(rows(entry, 5))  # type: ignore[arg-type]
    assert table == "phonebook_entries" and row[-2:] == (5, "")
    with pytest.raises(ValueError, match="speeddial"):
        parse_account_event({**old, "speeddial": "1a"})
