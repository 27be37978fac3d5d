"""`cdrflow user add|password`: create users and set their page passwords.

A password is read from standard input (or asked for on a terminal), never from the
command line, which other users of the machine can see; only its salted hash is
published.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import sys
from typing import Any

from cdrflow.passwords import hash_password
from cdrflow.settings import Settings
from rating.reference import ACCOUNT_SCHEMA, ACCOUNT_TYPES, ROLES, Account, parse_account_event
from streams.account_events import encoded
from streams.publisher import publish_now
from streams.reference_feed import load_reference_data
from streams.topics import ACCOUNT_EVENTS


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("user", help="users and their passwords (docs/events.md)")
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="create a user (publishes user_created)")
    add.add_argument("--id", type=int, required=True, help="the user id")
    add.add_argument("--username", required=True, help="the login name (MOR's `u`)")
    add.add_argument("--role", choices=ROLES, default="user")
    add.add_argument("--first-name", default="")
    add.add_argument("--last-name", default="")
    add.add_argument("--owner", type=int, default=0, help="the reseller's user id (0: admin)")
    add.add_argument("--currency", default="USD")
    add.add_argument("--tariff", type=int, required=True, help="the retail tariff id")
    add.add_argument("--timezone", default="UTC", help="IANA time zone")
    add.add_argument("--tax", default="0", help="VAT percent, e.g. 21")
    add.add_argument("--account-type", choices=ACCOUNT_TYPES, default="postpaid")
    add.add_argument("--credit-limit", default="-1", help="-1: no limit")
    add.add_argument("--language", default="en")
    add.add_argument("--api-group", default="", help="API permission group limiting the user")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input (default: ask, or none)")
    password = actions.add_parser("password", help="set a user's password (user_updated)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true",
                          help="read the password from standard input (default: ask)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.user_command == "add":
        event: dict[str, Any] = {
            "schema": ACCOUNT_SCHEMA, "type": "user_created", "user_id": args.id,
            "username": args.username, "first_name": args.first_name,
            "last_name": args.last_name, "role": args.role, "owner_id": args.owner,
            "currency": args.currency, "tariff_id": args.tariff, "timezone": args.timezone,
            "tax_percent": args.tax, "account_type": args.account_type,
            "credit_limit": args.credit_limit, "language": args.language,
            "api_group": args.api_group,
        }
        secret = _password(args.password_stdin, required=False)
        if secret:
            event["password_hash"] = hash_password(secret)
    else:
        data = asyncio.run(load_reference_data(settings))
        found = [a for a in data.accounts.values() if a.username == args.username]
        if not found:
            print(f"no user {args.username!r}", file=sys.stderr)
            return 1
        event = _updated(found[0], hash_password(_password(args.password_stdin)))
    try:
        parse_account_event(event)
    except ValueError as exc:
        print(f"not published: {exc}", file=sys.stderr)
        return 1

    publish_now(settings, ACCOUNT_EVENTS, [encoded(event["user_id"], event)])
    print(f"published {event['type']} for user {event['user_id']} ({event['username']})")
    return 0


def _updated(account: Account, password_hash: str) -> dict[str, Any]:
    """user_updated replaces the user as a whole: everything as it is, a new hash."""
    fields = dataclasses.asdict(account)
    fields.pop("tax_factor", None)
    for name in ("tax_percent", "credit_limit"):
        fields[name] = str(fields[name])
    return {"schema": ACCOUNT_SCHEMA, "type": "user_updated", **fields,
            "password_hash": password_hash}


def _password(from_stdin: bool, *, required: bool = True) -> str:
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        secret = getpass.getpass("password: ")
        if secret and getpass.getpass("again: ") != secret:
            raise SystemExit("the passwords differ; nothing was published")
    else:
        secret = ""
    if required and not secret:
        raise SystemExit("an empty password; nothing was published")
    return secret
