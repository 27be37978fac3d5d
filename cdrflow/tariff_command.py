"""`cdrflow tariff import`: check a CSV rate list and publish it as a tariff version."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

from cdrflow.settings import Settings
from rating.rate_list import parse_rate_list
from rating.tariff_import import built_tariff, import_options, summary, version_events
from streams.publisher import publish_now
from streams.topics import TARIFF_EVENTS


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tariff = commands.add_parser("tariff", help="tariff rate lists (docs/tariffs.md)")
    actions = tariff.add_subparsers(dest="tariff_command", required=True)
    imports = actions.add_parser(
        "import", help="check a CSV rate list and publish it as a new tariff version")
    imports.add_argument("file", help="the CSV rate list")
    imports.add_argument("--tariff-id", type=int, required=True,
                         help="the tariff the version belongs to")
    imports.add_argument("--version", type=int, required=True,
                         help="a number higher than the last version of this tariff")
    imports.add_argument("--name", help="shown to people (default: the file name)")
    imports.add_argument("--currency", default="USD", help="ISO 4217 currency of the prices")
    imports.add_argument("--effective-from", help="ISO date-time in --timezone, or epoch ms "
                                                  "(default: now)")
    imports.add_argument("--effective-until", help="no version of this tariff applies from then")
    imports.add_argument("--timezone", default="UTC", help="IANA zone of windows and holidays")
    imports.add_argument("--weekend", default="sat,sun", help="the free days of the week")
    imports.add_argument("--holidays", default="", help="comma-separated YYYY-MM-DD free days")
    imports.add_argument("--decimals", type=int, default=6, choices=range(7),
                         help="prices are rounded to this many decimals")
    imports.add_argument("--rounding", default="half_up",
                         choices=("half_up", "half_even", "up", "down", "truncate"))
    imports.add_argument("--country-code", default="",
                         help="turns national numbers into international ones")
    imports.add_argument("--national-prefix", default="0", help="the national trunk prefix")
    imports.add_argument("--charge-unanswered", action="store_true",
                         help="charge connection fees for unanswered calls too")
    imports.add_argument("--dry-run", action="store_true",
                         help="check the file and print a summary, publish nothing")


MAX_EVENT_BYTES = 1_000_000  # Kafka's default message.max.bytes is 1,048,588


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_bytes().decode("utf-8")
    except OSError as exc:
        print(f"{args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError as exc:
        print(f"{args.file}: not UTF-8 (byte {exc.start})\nnothing was published",
              file=sys.stderr)
        return 1
    rate_list = parse_rate_list(text)
    errors = [error.render(args.file) for error in rate_list.errors]
    try:
        options = import_options(
            tariff_id=args.tariff_id, version=args.version,
            name=args.name or Path(args.file).name, currency=args.currency,
            effective_from=args.effective_from or str(time.time_ns() // 1_000_000),
            effective_until=args.effective_until, timezone=args.timezone,
            weekend=args.weekend, holidays=args.holidays, decimals=args.decimals,
            rounding=args.rounding, country_code=args.country_code,
            national_prefix=args.national_prefix, charge_unanswered=args.charge_unanswered)
    except ValueError as exc:
        errors.insert(0, str(exc))
    if not errors:
        events = version_events(options, rate_list.rate_json)
        records = [(str(options.tariff_id).encode(), orjson.dumps(e)) for e in events]
        try:
            built_tariff(events)
        except ValueError as exc:
            errors.append(f"{args.file}: {exc}")
        errors += [f"{args.file}: event {n} is {len(value)} bytes, over Kafka's limit of "
                   f"{MAX_EVENT_BYTES}: shorten the destination names"
                   for n, (_, value) in enumerate(records, start=1) if len(value) > MAX_EVENT_BYTES]
    if errors:
        print("\n".join(errors), file=sys.stderr)
        print(f"{len(errors)} error{'s' if len(errors) != 1 else ''}; nothing was published",
              file=sys.stderr)
        return 1
    print("\n".join(summary(options, rate_list)))
    if args.dry_run:
        print("dry run: nothing was published")
        return 0

    sent = publish_now(settings, TARIFF_EVENTS, records)
    print(f"published {sent} events to {settings.topic(TARIFF_EVENTS)}; workers use version "
          f"{options.version} for calls that start at or after its effective moment")
    return 0
