"""personal_details_updated: every field bounded, the agreement date checked, the row."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from projections import account_tables, personal_details
from streams.account_events import account_event, parse_account_event
from streams.personal_details_events import FIELDS, MAX_LENGTH, UPDATED, PersonalDetails


def event(**changes: Any) -> dict[str, Any]:
    body = account_event(UPDATED, user_id=2, personal_id="AB123", agreement_date="2008-03-11",
                         taxation_country="Uzbekistan", reg_city="Tashkent",
                         reg_email="admin@voip.com")
    body.update(changes)
    return body


def test_the_fields_are_the_records_fields_in_page_order() -> None:
    assert tuple(f.name for f in fields(PersonalDetails)) == ("user_id", *FIELDS)
    assert personal_details.COLUMNS == ("user_id", *FIELDS, "version")
    assert account_tables.TABLES[personal_details.TABLE] == personal_details.COLUMNS
    assert FIELDS["personal_id"] == "personalid"


def test_an_update_parses_with_missing_fields_empty_and_projects_one_row() -> None:
    details = parse_account_event(event())
    assert details == PersonalDetails(2, personal_id="AB123", agreement_date="2008-03-11",
                                      taxation_country="Uzbekistan", reg_city="Tashkent",
                                      reg_email="admin@voip.com")
    assert isinstance(details, PersonalDetails)
    row = list(account_tables.rows_of(details, 9))
    assert row == [("personal_details", (2, "AB123", "", "2008-03-11", "Uzbekistan", "", "",
                                          "", "Tashkent", "", "", "", "", "", "",
                                          "admin@voip.com", 9))]


def test_the_agreement_date_may_be_empty() -> None:
    details = parse_account_event(event(agreement_date=""))
    assert isinstance(details, PersonalDetails) and details.agreement_date == ""


@pytest.mark.parametrize(("changes", "reason"), [
    ({"agreement_date": "2008-3-11"}, "agreement_date must be a date"),
    ({"agreement_date": "2008-02-30"}, "agreement_date must be a date"),
    ({"agreement_date": "20080311"}, "agreement_date must be a date"),
    ({"reg_email": "x" * (MAX_LENGTH + 1)}, "reg_email is too long"),
    ({"personal_id": "x" * (MAX_LENGTH + 1)}, "personalid is too long"),
    ({"reg_city": 5}, "reg_city must be a string"),
    ({"user_id": "2"}, "user_id"),
])
def test_bad_updates_are_refused_with_the_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_account_event(event(**changes))


def test_the_longest_fields_are_accepted() -> None:
    details = parse_account_event(event(**{name: "é" * MAX_LENGTH for name in FIELDS
                                           if name != "agreement_date"}))
    assert isinstance(details, PersonalDetails) and len(details.reg_fax) == MAX_LENGTH
