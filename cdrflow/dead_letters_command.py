"""`cdrflow dead-letters`: what the pipeline could not use, and why."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from datetime import UTC, datetime

import orjson

from cdrflow.settings import Settings
from streams.topics import DEAD_LETTERS, read_all


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    letters = commands.add_parser(
        "dead-letters", help="list dead letters: bad events and rejected (unrateable) calls")
    letters.add_argument("--rejected", action="store_true",
                         help="only calls that could not be rated (reason 'rejected: ...')")
    letters.add_argument("--summary", action="store_true", help="counts per reason only")


def run(settings: Settings, args: argparse.Namespace) -> int:
    records = asyncio.run(read_all(settings, DEAD_LETTERS))
    letters = []
    for record in records:
        letter = orjson.loads(record.value or b"{}")
        if args.rejected and not str(letter.get("reason", "")).startswith("rejected:"):
            continue
        letters.append((record.timestamp, letter))
    letters.sort(key=lambda item: item[0])
    if args.summary:
        counts = Counter(_kind(letter["reason"]) for _, letter in letters)
        for reason, count in counts.most_common():
            print(f"{count:>8}  {reason}")
    else:
        for timestamp, letter in letters:
            when = datetime.fromtimestamp(timestamp / 1000, tz=UTC)
            call_id = (letter.get("call") or {}).get("call_id") or letter.get("key") or "-"
            print(f"{when:%Y-%m-%d %H:%M:%S}  {letter['topic']}:{letter['partition']}:"
                  f"{letter['offset']}  {call_id}  {letter['reason']}")
    print(f"{len(letters)} dead letters")
    return 0


def _kind(reason: str) -> str:
    """The reason without its details: `rejected: no_rate: tariff 1 ...` -> `rejected: no_rate`."""
    head = reason.split(":")
    return ":".join(head[:2]) if reason.startswith("rejected:") else head[0]
