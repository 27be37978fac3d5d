"""`cdrflow invoices issue|paid`: issue monthly invoices and mark them paid.

`issue` reads the projections (calls from `cdrs FINAL`, subscriptions and services, the
users' currency, time zone and tax) and publishes one `invoice_issued` per user with
something to invoice in the month (docs/invoices.md). An invoice's id and number follow
from the user and the month: issuing a month again skips the invoices already issued
(with --reissue it replaces them), and never makes a second one.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from datetime import tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from clickhouse_driver import Client

from api.xml import money
from cdrflow.settings import Settings
from projections import invoices, subscriptions
from projections.clickhouse import connect
from projections.queries import User, user_by_id
from streams.account_events import account_event, encoded
from streams.invoice_events import (
    ISSUED,
    MICRO,
    PAID,
    Invoice,
    Period,
    build_invoice,
    invoice_id,
    invoice_issued,
    issued_event,
    parse_period,
    subscription_charge,
)
from streams.publisher import publish_now
from streams.topics import ACCOUNT_EVENTS

_NUMBER = re.compile(r"INV-(\d{4}-\d{2})-(\d+)")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    invoices_ = commands.add_parser("invoices", help="monthly invoices (docs/invoices.md)")
    actions = invoices_.add_subparsers(dest="invoices_command", required=True)
    issue = actions.add_parser(
        "issue", help="invoice a month's calls and subscriptions (publishes invoice_issued)")
    issue.add_argument("--period", required=True, help="the month, e.g. 2026-11 (in each "
                                                       "user's time zone; must be over)")
    issue.add_argument("--user", type=int, help="only this user id (default: every user "
                                                "with calls or subscriptions in the month)")
    issue.add_argument("--reissue", action="store_true",
                       help="replace invoices already issued (same id and number)")
    issue.add_argument("--dry-run", action="store_true", help="print, publish nothing")
    paid = actions.add_parser("paid", help="mark an invoice paid (publishes invoice_paid)")
    paid.add_argument("number", help="the invoice number, e.g. INV-2026-11-000002")


def run(settings: Settings, args: argparse.Namespace) -> int:
    now_ms = time.time_ns() // 1_000_000
    client = connect(settings.clickhouse)
    try:
        if args.invoices_command == "paid":
            return _paid(settings, client, args.number, now_ms)
        return _issue(settings, client, args, now_ms)
    finally:
        client.disconnect()


def _issue(settings: Settings, client: Client, args: argparse.Namespace, now_ms: int) -> int:
    try:
        period = parse_period(args.period)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.user is not None:
        found = user_by_id(client, args.user)
        if found is None:
            print(f"no user {args.user}", file=sys.stderr)
            return 1
        users = [found]
    else:
        users = invoices.all_users(client)
    issued: list[Invoice] = []
    errors: list[str] = []
    for user in users:
        try:
            invoice = _invoice(client, user, period, now_ms, reissue=args.reissue)
        except ValueError as exc:
            errors.append(f"user {user.user_id} ({user.username}): {exc}")
            continue
        if isinstance(invoice, str):
            print(invoice)
        elif invoice is not None:
            issued.append(invoice)
        elif args.user is not None:
            print(f"user {user.user_id} ({user.username}): nothing to invoice in {period}")
    for invoice in issued:
        print(f"{invoice.number}: calls {invoice.calls_price} + subscriptions "
              f"{invoice.subscriptions_price} = {invoice.price} {invoice.currency}; "
              f"VAT {money(invoice.vat_percent)}%: {invoice.price_with_vat} {invoice.currency}")
    if issued and not args.dry_run:
        records = [encoded(i.user_id, account_event(ISSUED, **issued_event(i))) for i in issued]
        sent = publish_now(settings, ACCOUNT_EVENTS, records)
        print(f"published {sent} invoice_issued events")
    elif args.dry_run:
        print("dry run: nothing was published")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        print(f"{len(errors)} user{'s' if len(errors) != 1 else ''} not invoiced",
              file=sys.stderr)
        return 1
    return 0


def _invoice(client: Client, user: User, period: Period, now_ms: int, *,
             reissue: bool) -> Invoice | str | None:
    """The user's invoice for the month, what to say when it is already issued, or None
    when there is nothing to invoice; raises ValueError when it cannot be issued."""
    zone = _zone(user.timezone)
    start_ms, end_ms = period.bounds(zone)
    if end_ms > now_ms:
        raise ValueError(f"{period} is not over yet in {user.timezone or 'UTC'}")
    existing = invoices.invoice(client, user.user_id, invoice_id(user.user_id, period))
    if existing is not None and not reissue:
        return f"{existing.number}: already issued, left as it is"
    calls = invoices.calls_price(client, user.user_id, start_ms, end_ms).quantize(MICRO)
    active = [s for s in subscriptions.subscriptions(client, user.user_id)
              if s.active_between(start_ms, end_ms)]
    if calls.is_zero() and not active:
        return None
    services = subscriptions.services(client, (s.service_id for s in active))
    charges = Decimal(0)
    for subscription in active:
        service = services.get(subscription.service_id)
        if service is None:
            raise ValueError(f"subscription {subscription.subscription_id}: no service "
                             f"{subscription.service_id}")
        if service.currency != user.currency:
            raise ValueError(f"subscription {subscription.subscription_id}: service "
                             f"{service.service_id} is priced in {service.currency}, the "
                             f"user pays in {user.currency}")
        charges += subscription_charge(subscription, service, period, zone)
    invoice = build_invoice(user.user_id, period, zone, calls_price=calls,
                            subscriptions_price=charges.quantize(MICRO),
                            vat_percent=user.tax_percent, currency=user.currency,
                            issued_ms=now_ms)
    return invoice_issued(account_event(ISSUED, **issued_event(invoice)))  # checked


def _paid(settings: Settings, client: Client, number: str, now_ms: int) -> int:
    found = _NUMBER.fullmatch(number.strip())
    try:
        if found is None:
            raise ValueError(f"an invoice number looks like INV-2026-11-000002, got {number!r}")
        user_id, period = int(found[2]), parse_period(found[1])
        invoice = invoices.invoice(client, user_id, invoice_id(user_id, period))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    if invoice is None:
        print(f"no invoice {number}", file=sys.stderr)
        return 1
    event = account_event(PAID, invoice_id=invoice.invoice_id, user_id=invoice.user_id,
                          paid_ms=now_ms)
    publish_now(settings, ACCOUNT_EVENTS, [encoded(invoice.user_id, event)])
    print(f"published invoice_paid for {invoice.number}")
    return 0


def _zone(name: str) -> tzinfo:
    """The user's IANA time zone; UTC when empty or unknown (as the pages show it)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError, OSError):
        return ZoneInfo("UTC")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m cdrflow.invoice_command invoices ...`: the command without cdrflow.cli."""
    parser = argparse.ArgumentParser(prog="cdrflow")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return run(Settings.from_env(), parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
