"""`cdrflow webhook set`: where a user's or a device's calls are posted when they end
(MOR's "Call End" webhook; docs/webhooks.md). `cdrflow webhooks` does the posting."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from cdrflow.settings import Settings
from rating.reference import ReferenceData
from streams.account_events import account_event, encoded
from streams.publisher import publish_now
from streams.reference_feed import load_reference_data
from streams.topics import ACCOUNT_EVENTS
from streams.webhook_events import CALL_END_SET, call_end_webhook_set

Load = Callable[[Settings], Coroutine[Any, Any, ReferenceData]]
Publish = Callable[[Settings, str, list[tuple[bytes, bytes]]], int]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhook = commands.add_parser("webhook", help="Call End webhook URLs (docs/webhooks.md)")
    actions = webhook.add_subparsers(dest="webhook_command", required=True)
    set_ = actions.add_parser("set", help="set or remove a URL (publishes call_end_webhook_set)")
    set_.add_argument("--user", type=int, required=True, help="the user id")
    set_.add_argument("--device", type=int, default=0,
                      help="one of the user's devices (default 0: all of them; a device's "
                           "own URL wins over its user's)")
    set_.add_argument("--url", required=True,
                      help="http:// or https:// URL; an empty string removes the setting")


def run(settings: Settings, args: argparse.Namespace, load: Load = load_reference_data,
        publish: Publish = publish_now) -> int:
    data = asyncio.run(load(settings))
    if args.user not in data.accounts:
        print(f"no user {args.user}; nothing was published", file=sys.stderr)
        return 1
    device = data.devices.get(args.device) if args.device else None
    if args.device and (device is None or device.user_id != args.user):
        print(f"user {args.user} has no device {args.device}; nothing was published",
              file=sys.stderr)
        return 1
    event = account_event(CALL_END_SET, user_id=args.user, device_id=args.device,
                          url=args.url.strip(), set_ms=time.time_ns() // 1_000_000)
    try:
        call_end_webhook_set(event)
    except ValueError as exc:
        print(f"{exc}; nothing was published", file=sys.stderr)
        return 1
    publish(settings, ACCOUNT_EVENTS, [encoded(args.user, event)])
    target = f"device {args.device}" if args.device else f"every device of user {args.user}"
    print(f"Call End webhook of {target}: {event['url'] or 'removed'}")
    return 0
