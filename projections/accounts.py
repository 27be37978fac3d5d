"""Reads of the users table beyond the call lists: credentials for logging in, whole
accounts (for the account API methods), and the user a device login belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clickhouse_driver import Client

from projections.queries import USER_SELECT, User, user_from_row
from rating.reference import Account

_ACCOUNT_SELECT = (
    "user_id, username, first_name, last_name, role, owner_id, currency, tariff_id, "
    "timezone, tax_percent, account_type, credit_limit, language, api_group, password_hash"
)


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


def account_by_id(client: Client, user_id: int) -> Account | None:
    """The whole account as its last user_created/user_updated set it (what a new
    user_updated must carry, since it replaces the user as a whole)."""
    found = client.execute(
        f"SELECT {_ACCOUNT_SELECT} FROM users FINAL WHERE user_id = %(user_id)s",
        {"user_id": user_id})
    return _account(found[0]) if found else None


def accounts(client: Client, owner_id: int | None = None) -> list[Account]:
    """Every account by user id; with `owner_id`, that user and the users it owns."""
    condition = ("WHERE user_id = %(owner_id)s OR owner_id = %(owner_id)s"
                 if owner_id is not None else "")
    found = client.execute(
        f"SELECT {_ACCOUNT_SELECT} FROM users FINAL {condition} ORDER BY user_id",
        {"owner_id": owner_id})
    return [_account(row) for row in found]


def device_user_id(client: Client, device_username: str) -> int | None:
    """The user owning the device whose login (`devices.username`) this is; the lowest
    device id wins when several share it. Empty logins match nothing."""
    if not device_username:
        return None
    found = client.execute(
        "SELECT user_id FROM devices FINAL WHERE username = %(username)s "
        "ORDER BY device_id LIMIT 1", {"username": device_username})
    return int(found[0][0]) if found else None


def _account(row: tuple[Any, ...]) -> Account:
    (user_id, username, first, last, role, owner_id, currency, tariff_id, timezone, tax,
     account_type, credit, language, api_group, password_hash) = (
        value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        for value in row)
    return Account(int(user_id), str(username), str(first), str(last), str(role),
                   int(owner_id), str(currency), int(tariff_id), str(timezone),
                   Decimal(tax), str(account_type), Decimal(credit), str(language),
                   str(api_group), str(password_hash))


def user_version(client: Client, user_id: int) -> int:
    """The offset of the last user event projected for the user (-1: none yet)."""
    found = client.execute("SELECT max(version), count() FROM users WHERE user_id = %(u)s",
                           {"u": user_id})
    return int(found[0][0]) if found and found[0][1] else -1
