"""`cdrflow payment add`: record a payment for a user (the admin's way; docs/payments.md)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from cdrflow.settings import Settings
from projections.queries import User
from streams.account_events import account_event, encoded, new_id
from streams.payment_events import CREATED, payment_created
from streams.publisher import publish_now
from streams.topics import ACCOUNT_EVENTS

UserLookup = Callable[[Settings, int], User | None]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    payment = commands.add_parser("payment", help="payments and balances (docs/payments.md)")
    actions = payment.add_subparsers(dest="payment_command", required=True)
    add = actions.add_parser("add", help="record a payment: it adds to the user's balance")
    add.add_argument("--user", type=int, required=True, help="the user id")
    add.add_argument("--amount", required=True,
                     help="decimal amount without VAT, above 0 (a correction may be negative)")
    add.add_argument("--currency", help="the user's currency (default); others are refused")
    add.add_argument("--vat", default="0", help="VAT percent shown with the payment")
    add.add_argument("--type", default="manual", dest="payment_type",
                     help="manual, paypal, correction... (lower case)")
    add.add_argument("--payment-id", type=int,
                     help="re-record (replace) this payment; default: a new id. Running the "
                          "same command with the same id twice records one payment")
    add.add_argument("--paid-at", type=int, help="epoch ms of the payment (default: now)")
    add.add_argument("--not-confirmed", action="store_true",
                     help="record it unconfirmed (confirmed_ms 0)")
    add.add_argument("--not-completed", action="store_true",
                     help="record it incomplete: it does not count in the balance")


def run(settings: Settings, args: argparse.Namespace,
        find_user: UserLookup | None = None) -> int:
    user = (find_user or _user_from_clickhouse)(settings, args.user)
    if user is None:
        print(f"user {args.user} was not found; nothing was published", file=sys.stderr)
        return 1
    currency = (args.currency or user.currency).upper()
    if currency != user.currency:
        print(f"user {user.user_id} pays in {user.currency}, not {currency}: record the "
              f"amount converted to {user.currency}; nothing was published", file=sys.stderr)
        return 1
    now_ms = time.time_ns() // 1_000_000
    paid_ms = args.paid_at or now_ms
    try:
        amount, vat = format(Decimal(args.amount), "f"), format(Decimal(args.vat), "f")
        event = account_event(
            CREATED, payment_id=args.payment_id or new_id(), user_id=user.user_id,
            amount=amount, currency=currency, vat_percent=vat,
            payment_type=args.payment_type, paid_ms=paid_ms,
            confirmed_ms=0 if args.not_confirmed else max(paid_ms, now_ms),
            completed=not args.not_completed)
        payment_created(event)
    except (InvalidOperation, ValueError) as exc:
        reason = exc if isinstance(exc, ValueError) else "amount and vat must be decimals"
        print(f"{reason}; nothing was published", file=sys.stderr)
        return 1

    publish_now(settings, ACCOUNT_EVENTS, [encoded(user.user_id, event)])
    print(f"payment {event['payment_id']}: {amount} {currency} for user {user.user_id} "
          f"({user.username}) published to {settings.topic(ACCOUNT_EVENTS)}")
    return 0


def _user_from_clickhouse(settings: Settings, user_id: int) -> User | None:
    from projections.clickhouse import connect
    from projections.queries import user_by_id

    client = connect(settings.clickhouse)
    try:
        return user_by_id(client, user_id)
    finally:
        client.disconnect()
