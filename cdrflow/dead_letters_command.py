"""`cdrflow dead-letters`: what the pipeline could not use, and why; with `--open`, the
rejected calls that still have no CDR (docs/rerating.md, "Rejected calls")."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.rejections import rated_call_ids
from rating.rerate import RejectedCall, latest_rejections, rejected_call
from streams.topics import DEAD_LETTERS, read_all


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    letters = commands.add_parser(
        "dead-letters", help="list dead letters: bad events and rejected (unrateable) calls")
    letters.add_argument("--rejected", action="store_true",
                         help="only calls that could not be rated (reason 'rejected: ...')")
    letters.add_argument("--open", action="store_true",
                         help="only rejected calls that have no CDR yet, one line per call "
                              "(implies --rejected)")
    letters.add_argument("--summary", action="store_true", help="counts per reason only")


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.open:
        return _run_open(settings, summary=args.summary)
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


@dataclass(frozen=True, slots=True)
class Rejections:
    """The latest rejection of every rejected call in `dead-letters` (`calls`), and the
    rejections whose call could not be read (`unreadable`: listed, never re-rated)."""

    calls: list[RejectedCall]
    unreadable: list[tuple[str, str]]  # (dead letter key, why)


async def read_rejections(settings: Settings) -> Rejections:
    """Every rejected call of the `dead-letters` topic, read from its start to its end."""
    found, unreadable = [], []
    for record in await read_all(settings, DEAD_LETTERS):
        try:
            letter = orjson.loads(record.value or b"{}")
            rejection = rejected_call(letter, record.timestamp) if isinstance(letter, dict) \
                else None
        except ValueError as exc:  # orjson's JSONDecodeError is one too
            unreadable.append(((record.key or b"").decode("utf-8", "replace"), str(exc)))
            continue
        if rejection is not None:
            found.append(rejection)
    return Rejections(latest_rejections(found), unreadable)


def open_only(settings: Settings, rejections: list[RejectedCall]) -> list[RejectedCall]:
    """The rejected calls that have no CDR in `cdrs` (any version) yet."""
    if not rejections:
        return []
    client = connect(settings.clickhouse)
    try:
        rated = rated_call_ids(client, rejections)
    finally:
        client.disconnect()
    return [r for r in rejections if r.call_id not in rated]


def _run_open(settings: Settings, *, summary: bool) -> int:
    rejections = asyncio.run(read_rejections(settings))
    still = open_only(settings, rejections.calls)
    if summary:
        for reason, count in Counter(f"rejected: {r.reason}" for r in still).most_common():
            print(f"{count:>8}  {reason}")
    else:
        for rejection in still:
            print(line(rejection))
    for key, why in rejections.unreadable:
        print(f"unreadable rejection {key}: {why}", file=sys.stderr)
    print(f"{len(still)} open rejected calls")
    return 0


def line(rejection: RejectedCall) -> str:
    """One open rejected call: start (UTC), call id, user, dst, reason and detail."""
    call = rejection.call
    start = datetime.fromtimestamp(call.start_ms / 1000, tz=UTC)
    return (f"{start:%Y-%m-%d %H:%M:%S}  {call.call_id}  user {call.user_id}  {call.dst}  "
            f"{rejection.reason}: {rejection.detail}")
