"""Personal details events: the whole set of a user's personal details, as last saved.

`personal_details_updated` carries every field (the page's form sends them all; the API
fills a field the request left out with its current value), so the last event is the
state and the projection keeps only that. First name and surname are not personal
details: they belong to the user (`user_created`/`user_updated`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rating.fields import integer, text

UPDATED = "personal_details_updated"
MAX_LENGTH = 255  # characters, for every field

# Event field -> the element of the Personal details page that shows it (and the
# parameter of `/users/update_personal_details/<user id>` that sets it).
FIELDS: dict[str, str] = {
    "personal_id": "personalid",
    "agreement_number": "agreement_number",
    "agreement_date": "agreement_date",
    "taxation_country": "taxation_country",
    "vat_reg_number": "vat_reg_number",
    "reg_address": "reg_address",
    "reg_postcode": "reg_postcode",
    "reg_city": "reg_city",
    "reg_country": "reg_country",
    "reg_state": "reg_state",
    "reg_direction": "reg_direction",
    "reg_phone": "reg_phone",
    "reg_mobile": "reg_mobile",
    "reg_fax": "reg_fax",
    "reg_email": "reg_email",
}


@dataclass(frozen=True, slots=True)
class PersonalDetails:
    user_id: int
    personal_id: str = ""
    agreement_number: str = ""
    agreement_date: str = ""  # YYYY-MM-DD or ""
    taxation_country: str = ""
    vat_reg_number: str = ""
    reg_address: str = ""
    reg_postcode: str = ""
    reg_city: str = ""
    reg_country: str = ""
    reg_state: str = ""
    reg_direction: str = ""
    reg_phone: str = ""
    reg_mobile: str = ""
    reg_fax: str = ""
    reg_email: str = ""

    def values(self) -> dict[str, str]:
        """The personal fields (all but user_id), in FIELDS order."""
        return {name: getattr(self, name) for name in FIELDS}


def check(values: dict[str, str]) -> str | None:
    """Why these personal field values cannot be saved, or None when they can."""
    for name, value in values.items():
        if len(value) > MAX_LENGTH:
            return f"{FIELDS[name]} is too long (max {MAX_LENGTH} characters)"
    agreement_date = values.get("agreement_date", "")
    if agreement_date and not _is_date(agreement_date):
        return "agreement_date must be a date like 2008-03-11"
    return None


def details_updated(event: dict[str, Any]) -> PersonalDetails:
    values = {name: text(event, name, "") for name in FIELDS}
    problem = check(values)
    if problem is not None:
        raise ValueError(f"{UPDATED}: {problem}")
    return PersonalDetails(integer(event, "user_id"), **values)


def _is_date(value: str) -> bool:
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


PARSERS = {UPDATED: details_updated}
