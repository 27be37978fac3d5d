"""`cdrflow provider|did|service|subscription add`: publish reference data by hand.

Each `add` builds one account event (docs/events.md, docs/invoices.md), checks it with
the parser the sink and the workers use, and only then publishes it to
`account-events`. Adding the same id (or DID) again replaces the record: the
projections keep the last event. The event building is pure (`*_event` below); only
`run` talks to Kafka.

Keys, as the demo data and the tests publish them: a provider's events by the provider
id, a DID's by its owner's user id (`0` while the DID is free), services by `"0"`, a
subscription's by the subscribed user's id.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cdrflow.settings import Settings
from rating.tariff_import import moment_ms
from streams.account_events import account_event, encoded, parse_account_event
from streams.publisher import publish_now
from streams.subscription_events import SERVICE_CREATED, SERVICE_KEY, SUBSCRIPTION_ADDED
from streams.topics import ACCOUNT_EVENTS

Keyed = tuple[int, dict[str, Any]]  # (the account-events key, the event)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    provider = _add(commands, "provider", "termination providers (docs/events.md)",
                    "create or replace a provider (publishes provider_created)")
    provider.add_argument("--id", type=int, required=True, help="the provider id (not 0)")
    provider.add_argument("--name", required=True, help="e.g. 'Carrier A'")
    provider.add_argument("--tariff", type=int, required=True,
                          help="the tariff id of the provider's buy prices")

    did = _add(commands, "did", "DID numbers and their tariffs (docs/events.md)",
               "create or replace a DID (publishes did_created)")
    did.add_argument("--did", required=True, help="the number, digits only")
    did.add_argument("--user", type=int, default=0,
                     help="the owner's user id (0: free); the event's key, so re-assigning "
                          "a DID to another owner is not supported yet (docs/callflow.md)")
    did.add_argument("--incoming-tariff", type=int, default=0,
                     help="the tariff the calling user pays (0: nothing)")
    did.add_argument("--owner-tariff", type=int, default=0,
                     help="the tariff the DID's owner pays (0: nothing)")
    did.add_argument("--provider-tariff", type=int, default=0,
                     help="the tariff the operator pays the DID's provider (0: nothing)")

    service = _add(commands, "service", "flat monthly services (docs/invoices.md)",
                   "create or replace a service (publishes service_created)")
    service.add_argument("--id", type=int, required=True, help="the service id (not 0)")
    service.add_argument("--name", required=True, help="e.g. 'Static IP'")
    service.add_argument("--price", required=True,
                         help="decimal price per month without VAT, e.g. 10.00")
    service.add_argument("--currency", default="USD", help="ISO 4217 code")

    subscription = _add(commands, "subscription", "users' services (docs/invoices.md)",
                        "subscribe a user to a service, or replace a subscription "
                        "(publishes subscription_added)")
    subscription.add_argument("--id", type=int, required=True,
                              help="the subscription id (not 0)")
    subscription.add_argument("--user", type=int, required=True, help="the user id")
    subscription.add_argument("--service", type=int, required=True, help="the service id")
    subscription.add_argument("--start", help="ISO date-time (UTC unless it carries an "
                                              "offset) or epoch ms (default: now)")
    subscription.add_argument("--end", help="exclusive, as --start (default: open-ended)")


def _add(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
         help_: str, add_help: str) -> argparse.ArgumentParser:
    command = commands.add_parser(name, help=help_)
    actions = command.add_subparsers(dest=f"{name}_command", required=True)
    return actions.add_parser("add", help=add_help)


def provider_event(args: argparse.Namespace) -> Keyed:
    if args.id == 0:
        raise ValueError("provider_created: provider_id must not be 0")
    name = args.name.strip()
    if not name:
        raise ValueError("provider_created: name must not be empty")
    return args.id, account_event("provider_created", provider_id=args.id, name=name,
                                  tariff_id=args.tariff)


def did_event(args: argparse.Namespace) -> Keyed:
    did = args.did.strip()
    if not (did.isascii() and did.isdigit()):
        raise ValueError("did_created: did must be digits")
    return args.user, account_event(
        "did_created", did=did, user_id=args.user, incoming_tariff_id=args.incoming_tariff,
        owner_tariff_id=args.owner_tariff, provider_tariff_id=args.provider_tariff)


def service_event(args: argparse.Namespace) -> Keyed:
    try:
        price = format(Decimal(args.price.strip()), "f")
    except InvalidOperation:
        raise ValueError(f"{SERVICE_CREATED}: price must be a decimal number, "
                         f"got {args.price!r}") from None
    return SERVICE_KEY, account_event(SERVICE_CREATED, service_id=args.id,
                                      name=args.name.strip(),
                                      price=price, currency=args.currency.strip().upper())


def subscription_event(args: argparse.Namespace, now_ms: int) -> Keyed:
    start = _moment("--start", args.start) if args.start is not None else now_ms
    end = _moment("--end", args.end) if args.end is not None else 0
    return args.user, account_event(
        SUBSCRIPTION_ADDED, subscription_id=args.id, user_id=args.user,
        service_id=args.service, added_ms=now_ms, activation_start_ms=start,
        activation_end_ms=end)


def _moment(option: str, value: str) -> int:
    try:
        return moment_ms(value, "UTC")
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None


def build(args: argparse.Namespace, now_ms: int) -> Keyed:
    """The (key, event) an `add` publishes, checked as the sink checks it; ValueError
    says what is wrong."""
    if args.command == "provider":
        keyed = provider_event(args)
    elif args.command == "did":
        keyed = did_event(args)
    elif args.command == "service":
        keyed = service_event(args)
    else:
        keyed = subscription_event(args, now_ms)
    parse_account_event(keyed[1])
    return keyed


def describe(event: dict[str, Any]) -> str:
    """The one line said once the event is published."""
    kind = event["type"]
    if kind == "provider_created":
        return (f"published {kind} for provider {event['provider_id']} ({event['name']}, "
                f"tariff {event['tariff_id']})")
    if kind == "did_created":
        owner = f"user {event['user_id']}" if event["user_id"] else "free"
        return f"published {kind} for DID {event['did']} ({owner})"
    if kind == SERVICE_CREATED:
        return (f"published {kind} for service {event['service_id']} ({event['name']}, "
                f"{event['price']} {event['currency']} per month)")
    end = event["activation_end_ms"]
    return (f"published {kind} for subscription {event['subscription_id']} (user "
            f"{event['user_id']}, service {event['service_id']}, from "
            f"{_utc(event['activation_start_ms'])}"
            f"{f' until {_utc(end)}' if end else ', open-ended'})")


def _utc(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        key, event = build(args, time.time_ns() // 1_000_000)
    except ValueError as exc:
        print(f"not published: {exc}", file=sys.stderr)
        return 1

    publish_now(settings, ACCOUNT_EVENTS, [encoded(key, event)])
    print(describe(event))
    return 0
