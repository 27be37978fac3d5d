"""Which users' rows a list shows, as SQL conditions (the API's visibility rules)."""

from __future__ import annotations

from typing import Any


def scope_conditions(owner_id: int | None, user_id: int | None,
                     column: str = "user_id") -> tuple[list[str], dict[str, Any]]:
    """Conditions on `column` and their parameters: `user_id`, only that user's rows;
    `owner_id`, that user's and those of the users it owns (a reseller's); neither,
    every row."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if user_id is not None:
        conditions.append(f"{column} = %(user_id)s")
        params["user_id"] = user_id
    if owner_id is not None:
        conditions.append(f"{column} IN (SELECT user_id FROM users FINAL "
                          "WHERE user_id = %(owner_id)s OR owner_id = %(owner_id)s)")
        params["owner_id"] = owner_id
    return conditions, params
