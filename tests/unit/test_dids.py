"""dids_get and did_create over an in-memory reader, as each role; did_created reaching
rating with its provider."""

from __future__ import annotations

import pytest

from api.hash import mor_hash
from projections.callflow import did_rows
from projections.dids import DidFilter
from rating.reference import Did, ReferenceData
from tests.unit.test_device_methods import SECRET, Api, page

CREATE = ("provider_id", "did")
NOT_MANAGER = "You are not authorized to manage DIDs"


def status_error(text: str) -> str:
    return page(f"  <status>\n    <error>{text}</error>\n  </status>\n")


LISTED = page(
    "  <dids>\n"
    "    <did>\n      <id>37052000999</id>\n      <did_number>37052000999</did_number>\n"
    "      <did_status>free</did_status>\n      <user_id>0</user_id>\n"
    "      <provider_id>1</provider_id>\n    </did>\n"
    "    <did>\n      <id>37052000998</id>\n      <did_number>37052000998</did_number>\n"
    "      <did_status>active</did_status>\n      <user_id>2</user_id>\n"
    "      <provider_id>0</provider_id>\n    </did>\n"
    "  </dids>\n")


@pytest.mark.parametrize("caller", ["admin", "accountant"])
def test_dids_get_lists_and_passes_the_filter(caller: str) -> None:
    api = Api()
    answer = api.call("dids_get", caller, (), {
        "search_did_number": "370", "search_status": "Free", "search_user": "0",
        "search_device": "10", "search_provider": "1", "from": "3", "max_results": "5"})
    assert answer == LISTED
    assert api.reader.did_filters == [DidFilter("370", "free", 0, 10, 1, 2, 5)]


def test_dids_get_without_filters_and_empty() -> None:
    api = Api()
    api.reader.did_rows = []
    assert api.call("dids_get", "admin", (), {}) == page("  <dids></dids>\n")
    assert api.reader.did_filters == [DidFilter()]


@pytest.mark.parametrize(("caller", "params", "text"), [
    ("reseller", {}, NOT_MANAGER),
    ("john", {}, NOT_MANAGER),
    ("admin", {"search_status": "sold"}, "Invalid parameter: search_status"),
    ("admin", {"search_did_number": "37x"}, "Invalid parameter: search_did_number"),
    ("admin", {"from": "0"}, "Invalid parameter: from"),
    ("admin", {"max_results": "-1"}, "Invalid parameter: max_results"),
    ("admin", {"search_user": "a"}, "Invalid parameter: search_user"),
])
def test_dids_get_errors(caller: str, params: dict[str, str], text: str) -> None:
    assert Api().call("dids_get", caller, (), params) == status_error(text)


@pytest.mark.parametrize("caller", ["admin", "accountant"])
def test_did_create_appends_a_free_did_rating_reads(caller: str) -> None:
    api = Api()
    answer = api.call("did_create", caller, CREATE, {"provider_id": "1", "did": "37052000777"})
    assert answer == page("  <status>\n    <success>DID created</success>\n  </status>\n"
                          "  <did_details>\n    <id>37052000777</id>\n  </did_details>\n")
    [(topic, key, event)] = api.appender.events
    assert (topic, key) == ("account-events", b"0")
    assert event == {"schema": "cdrflow.account-event/1", "type": "did_created",
                     "did": "37052000777", "user_id": 0, "incoming_tariff_id": 0,
                     "owner_tariff_id": 0, "provider_tariff_id": 0, "provider_id": 1}
    data = ReferenceData()
    data.apply(event)
    assert data.dids["37052000777"] == Did("37052000777", 0, provider_id=1)
    assert list(did_rows(data.dids["37052000777"], 9)) == [
        ("dids", ("37052000777", 0, 0, 0, 0, 9, 1))]


def test_did_create_in_request_order() -> None:
    api = Api()
    data = {"u": "admin", "did": "123456789", "provider_id": "1",
            "hash": mor_hash(["123456789", "1"], SECRET)}
    answer = api.http.post("/billing/api/did_create", data=data).text
    assert "<success>DID created</success>" in answer


@pytest.mark.parametrize(("caller", "params", "text"), [
    ("reseller", {"provider_id": "1", "did": "370"}, NOT_MANAGER),
    ("john", {"provider_id": "1", "did": "370"}, NOT_MANAGER),
    ("admin", {"provider_id": "2", "did": "370"}, "Provider was not found"),
    ("admin", {"did": "370"}, "Provider was not found"),
    ("admin", {"provider_id": "x", "did": "370"}, "Provider was not found"),
    ("admin", {"provider_id": "1", "did": "37O"}, "Invalid DID"),
    ("admin", {"provider_id": "1"}, "Invalid DID"),
    ("admin", {"provider_id": "1", "did": "1" * 41}, "Invalid DID"),
    ("admin", {"provider_id": "1", "did": "37052000999"}, "DID already exists"),
])
def test_did_create_errors(caller: str, params: dict[str, str], text: str) -> None:
    api = Api()
    assert api.call("did_create", caller, CREATE, params) == status_error(text)
    assert api.appender.events == []


def test_did_create_wrong_hash() -> None:
    answer = Api().http.post("/billing/api/did_create",
                             data={"u": "admin", "provider_id": "1", "did": "1",
                                   "hash": "2" * 40})
    assert answer.text == status_error("Incorrect hash")
