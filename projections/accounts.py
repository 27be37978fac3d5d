"""Reads of the users table beyond the call lists: credentials for logging in."""

from __future__ import annotations

from dataclasses import dataclass

from clickhouse_driver import Client

from projections.queries import USER_SELECT, User, user_from_row


@dataclass(frozen=True, slots=True)
class Credentials:
    user: User
    password_hash: str  # "" when the user has no password (cannot log in)


def credentials_by_username(client: Client, username: str) -> Credentials | None:
    return _credentials(client, "username = %(value)s", username)


def credentials_by_id(client: Client, user_id: int) -> Credentials | None:
    return _credentials(client, "user_id = %(value)s", user_id)


def _credentials(client: Client, condition: str, value: object) -> Credentials | None:
    found = client.execute(
        f"SELECT {USER_SELECT}, password_hash FROM users FINAL WHERE {condition} "
        "ORDER BY user_id LIMIT 1",
        {"value": value},
    )
    if not found:
        return None
    row = found[0]
    return Credentials(user_from_row(row[:-1]), row[-1])
