"""`cdrflow rate`: price one call against the reference data on Kafka, and say why."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from cdrflow.settings import Settings
from rating.call import Call
from rating.explanation import explain
from rating.rater import Rejection, rate_call
from streams.reference_feed import load_reference_data


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rate = commands.add_parser(
        "rate", help="price one call with the published tariffs (--explain says why)")
    rate.add_argument("--user", type=int, required=True, help="the calling user's id")
    rate.add_argument("--dst", required=True, help="the dialled number")
    rate.add_argument("--start", help="when the call started: ISO date-time (in --timezone) "
                                      "or epoch ms; default now")
    rate.add_argument("--timezone", default="UTC", help="zone of --start (default UTC)")
    rate.add_argument("--ring", type=int, default=0, help="seconds from start to answer")
    rate.add_argument("--billsec", type=int, default=60, help="answered seconds (0: unanswered)")
    rate.add_argument("--cause", type=int, help="Q.850 hangup cause (default 16, or 19 "
                                                "when --billsec is 0)")
    rate.add_argument("--provider", type=int, default=0, help="the provider's id")
    rate.add_argument("--explain", action="store_true", help="show how the price was made")


def run(settings: Settings, args: argparse.Namespace) -> int:
    start_ms = _moment(args.start, args.timezone)
    answer_ms = start_ms + args.ring * 1000 if args.billsec > 0 else 0
    end_ms = start_ms + (args.ring + args.billsec) * 1000
    call = Call(
        call_id="what-if", start_ms=start_ms, answer_ms=answer_ms, end_ms=end_ms,
        ringing=True, user_id=args.user, device_id=0, server_id=0, src="", dst=args.dst,
        clid="", channel="", uniqueid="", hangup_cause=args.cause or (16 if args.billsec else 19),
        billsec=args.billsec, duration=args.ring + args.billsec, provider_id=args.provider,
    )
    data = asyncio.run(load_reference_data(settings))
    result = rate_call(call, data)
    if args.explain:
        print(explain(result, data, args.user, args.dst, start_ms), end="")
    elif isinstance(result, Rejection):
        print(f"rejected: {result.reason}: {result.detail}")
    else:
        print(f"{result.user_price} {result.currency}")
    return 1 if isinstance(result, Rejection) else 0


def _moment(text: str | None, zone: str) -> int:
    if text is None:
        return int(datetime.now(tz=ZoneInfo(zone)).timestamp()) * 1000
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return int(moment.timestamp() * 1000)
