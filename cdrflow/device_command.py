"""`cdrflow device add|registered`: create devices and record their registrations.

No SIP/IAX2 secret is asked for: secrets belong to the switch and never go into events
(docs/devices.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from cdrflow.settings import Settings
from streams.account_events import account_event, encoded, parse_account_event
from streams.device_events import REGISTERED
from streams.publisher import publish_now
from streams.reference_feed import load_reference_data
from streams.topics import ACCOUNT_EVENTS


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    device = commands.add_parser("device", help="devices and their registrations (docs/devices.md)")
    actions = device.add_subparsers(dest="device_command", required=True)
    add = actions.add_parser("add", help="create a device (publishes device_created)")
    add.add_argument("--id", type=int, required=True, help="the device id")
    add.add_argument("--user", type=int, required=True, help="the owner's user id")
    add.add_argument("--type", default="SIP", help="SIP, IAX2, FAX...")
    add.add_argument("--extension", required=True)
    add.add_argument("--name", default="", help="the device's name (default: the extension)")
    add.add_argument("--description", help="what the page shows (default: the name)")
    add.add_argument("--username", help="the SIP/IAX2 login (default: the extension)")
    add.add_argument("--callerid", default="", help='e.g. \'"101" <101>\'')
    registered = actions.add_parser("registered",
                                    help="a device registered (publishes device_registered)")
    registered.add_argument("--id", type=int, required=True, help="the device id")
    registered.add_argument("--at-ms", type=int, help="epoch ms (default: now)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.device_command == "add":
        fields: dict[str, Any] = {
            "device_id": args.id, "user_id": args.user, "device_type": args.type,
            "name": args.name or args.extension, "extension": args.extension,
            "callerid": args.callerid}
        for name in ("description", "username"):
            if getattr(args, name) is not None:
                fields[name] = getattr(args, name)
        event = account_event("device_created", **fields)
    else:
        data = asyncio.run(load_reference_data(settings))
        device = data.devices.get(args.id)
        if device is None:
            print(f"no device {args.id}", file=sys.stderr)
            return 1
        at_ms = args.at_ms if args.at_ms is not None else int(time.time() * 1000)
        event = account_event(REGISTERED, device_id=device.device_id, user_id=device.user_id,
                              registered_ms=at_ms)
    try:
        parse_account_event(event)
    except ValueError as exc:
        print(f"not published: {exc}", file=sys.stderr)
        return 1

    publish_now(settings, ACCOUNT_EVENTS, [encoded(event["user_id"], event)])
    print(f"published {event['type']} for device {event['device_id']} "
          f"(user {event['user_id']})")
    return 0
