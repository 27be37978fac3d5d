from datetime import UTC, datetime
from typing import Any

import pytest

from projections.account_tables import rows_of
from projections.clis import COLUMNS, TABLE
from streams.account_events import account_event, parse_account_event
from streams.cli_events import ADDED, Cli

ADDED_MS = 1_700_000_000_500


def added(**fields: Any) -> dict[str, Any]:
    return account_event(ADDED, **{"cli_id": 7, "device_id": 10, "user_id": 2,
                                   "cli": "37061234567", "description": "Mobile",
                                   "added_ms": ADDED_MS, **fields})


def test_cli_added_parses_into_a_cli() -> None:
    assert parse_account_event(added()) == Cli(7, 10, 2, "37061234567", "Mobile", ADDED_MS)


def test_the_description_is_optional_and_trimmed() -> None:
    event = added(description="  Home  ")
    assert parse_account_event(event) == Cli(7, 10, 2, "37061234567", "Home", ADDED_MS)
    del event["description"]
    assert isinstance(parse_account_event(event), Cli)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"cli": ""}, "cli_added: cli must be digits"),
    ({"cli": "+37061234567"}, "cli_added: cli must be digits"),
    ({"cli": "3706 1234"}, "cli_added: cli must be digits"),
    ({"cli": "٣٧٠"}, "cli_added: cli must be digits"),  # Arabic-Indic digits are not ASCII
    ({"cli": 37061234567}, "field cli must be a string"),
    ({"cli": "1" * 41}, "cli_added: cli (max 40) or description (max 200) is too long"),
    ({"description": "x" * 201}, "cli_added: cli (max 40)"),
    ({"device_id": -1}, "field device_id must be a non-negative integer"),
    ({"cli_id": None}, "field cli_id must be a non-negative integer"),
    ({"added_ms": "now"}, "field added_ms must be a non-negative integer"),
    ({"banned": 1}, "cli_added: banned must be true or false"),
    ({"comment": "c" * 1001}, "cli_added: comment is too long (max 1000)"),
])
def test_bad_cli_events_say_why(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_account_event(added(**fields))
    assert str(caught.value).startswith(reason)


def test_the_longest_cli_and_description_are_accepted() -> None:
    cli = parse_account_event(added(cli="1" * 40, description="x" * 200))
    assert isinstance(cli, Cli) and len(cli.cli) == 40


def test_a_cli_projects_to_one_device_clis_row() -> None:
    cli = parse_account_event(added())
    rows = list(rows_of(cli, 42))
    assert rows == [(TABLE, (7, 10, 2, "37061234567", "Mobile",
                             datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC), 42, "", 0))]
    banned = parse_account_event(added(comment="spam", banned=True))
    [(_, row)] = rows_of(banned, 43)
    assert row[-2:] == ("spam", 1)
    assert len(rows[0][1]) == len(COLUMNS)
