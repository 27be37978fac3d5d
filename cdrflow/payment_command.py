"""`cdrflow payment add`: record a payment for a user (the admin's way; docs/payments.md)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from cdrflow.settings import Settings
from projections.queries import User
from streams.account_events import account_event, encoded, new_id
from streams.payment_events import CREATED, Payment, created_fields, payment_created
from streams.publisher import publish_now
from streams.topics import ACCOUNT_EVENTS

UserLookup = Callable[[Settings, int], User | None]
PaymentLookup = Callable[[Settings, int, int], Payment | None]


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
    confirm = actions.add_parser(
        "confirm", help="confirm and complete a payment waiting for confirmation "
                        "(payment_create with CDRFLOW_API_PAYMENT_CONFIRMATION on)")
    confirm.add_argument("--user", type=int, required=True, help="the user id")
    confirm.add_argument("--payment-id", type=int, required=True, help="the payment id")


def run(settings: Settings, args: argparse.Namespace,
        find_user: UserLookup | None = None,
        find_payment: PaymentLookup | None = None) -> int:
    if args.payment_command == "confirm":
        return confirm(settings, args, find_payment or _payment_from_clickhouse)
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


def confirm(settings: Settings, args: argparse.Namespace, find_payment: PaymentLookup) -> int:
    """Publish the payment again, completed and confirmed now (all else kept): from then
    on it counts in the balance, once (the same payment_id replaces it)."""
    payment = find_payment(settings, args.user, args.payment_id)
    if payment is None:
        print(f"user {args.user} has no payment {args.payment_id}; nothing was published",
              file=sys.stderr)
        return 1
    if payment.completed and payment.confirmed_ms:
        print(f"payment {payment.payment_id} is already confirmed; nothing was published")
        return 0
    now_ms = time.time_ns() // 1_000_000
    confirmed = replace(payment, completed=True, confirmed_ms=max(now_ms, payment.paid_ms))
    event = account_event(CREATED, **created_fields(confirmed))
    payment_created(event)
    publish_now(settings, ACCOUNT_EVENTS, [encoded(payment.user_id, event)])
    print(f"payment {payment.payment_id}: {payment.amount} {payment.currency} for user "
          f"{payment.user_id} confirmed, published to {settings.topic(ACCOUNT_EVENTS)}")
    return 0


def _payment_from_clickhouse(settings: Settings, user_id: int,
                             payment_id: int) -> Payment | None:
    from projections.clickhouse import connect
    from projections.payments import payments

    client = connect(settings.clickhouse)
    try:
        return next((p for p in payments(client, user_id) if p.payment_id == payment_id),
                    None)
    finally:
        client.disconnect()


def _user_from_clickhouse(settings: Settings, user_id: int) -> User | None:
    from projections.clickhouse import connect
    from projections.queries import user_by_id

    client = connect(settings.clickhouse)
    try:
        return user_by_id(client, user_id)
    finally:
        client.disconnect()
