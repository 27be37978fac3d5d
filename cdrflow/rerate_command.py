"""`cdrflow rerate`: price past calls again with the tariffs as they are now, publish the
changed ones as new CDR versions, or with --what-if only report (docs/rerating.md).
With --rejected: price the open rejected calls (no CDR yet) into their first CDR."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from cdrflow.dead_letters_command import open_only, read_rejections
from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.rerate_source import CdrSelection, each_cdr
from rating.cdr import Cdr
from rating.rater import Rejection
from rating.reference import ReferenceData
from rating.rerate import RejectedCall, RejectedReport, RerateReport, rate_rejected, rerate
from streams.publisher import publish
from streams.reference_feed import load_reference_data
from streams.topics import CDRS

PUBLISH_BATCH = 5_000
PROGRESS_EVERY = 10_000
SHOWN_FAILURES = 20
Progress = Callable[[int], None]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "rerate", help="price past calls again; --what-if only reports (docs/rerating.md)")
    command.add_argument("--from", dest="start",
                         help="first day (YYYY-MM-DD) or moment (ISO date-time) of the period "
                              "(required, except with --rejected)")
    command.add_argument("--to", dest="end",
                         help="last day (through its end) or moment (inclusive) of the period "
                              "(required, except with --rejected)")
    command.add_argument("--timezone", default="UTC",
                         help="IANA zone of --from and --to without an offset (default UTC)")
    command.add_argument("--user", help="only this user's calls: user id or username")
    command.add_argument("--tariff", type=int,
                         help="only calls rated with this user tariff (the CDR's tariff_id)")
    command.add_argument("--what-if", "--testing", dest="what_if", action="store_true",
                         help="report old and new totals, publish nothing (MOR's testing mode)")
    command.add_argument("--rejected", action="store_true",
                         help="price the open rejected calls (no CDR yet) instead, into their "
                              "first CDR")


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.rejected:
        return run_rejected(settings, args)
    if args.start is None or args.end is None:
        print("cdrflow rerate: --from and --to are required (except with --rejected)",
              file=sys.stderr)
        return 2
    try:
        zone, start, end, data, user_id = _choice(settings, args, args.start, args.end)
    except _Refused as refused:
        print(f"{refused}; nothing was re-rated", file=sys.stderr)
        return 1
    assert start is not None and end is not None  # both required above
    selection = CdrSelection(start, end, user_id, args.tariff)
    report = asyncio.run(rerate_calls(settings, data, selection, write=not args.what_if,
                                      progress=_progress))
    if report.examined >= PROGRESS_EVERY:
        print(file=sys.stderr)
    print(render(report, selection, zone, data, settings, write=not args.what_if), end="")
    return 0


async def rerate_calls(settings: Settings, data: ReferenceData, selection: CdrSelection, *,
                       write: bool, progress: Progress | None = None) -> RerateReport:
    """Every selected CDR priced again with `data`; when `write`, the changed ones are
    published to `cdrs` as their next version (the sink projects them)."""
    report, pending = RerateReport(keep=SHOWN_FAILURES), []
    client = connect(settings.clickhouse)
    try:
        for old in each_cdr(client, selection):
            rerated = rerate(old, data)
            report.add(rerated)
            if write and rerated.new is not None:
                pending.append((old.call_id.encode(), orjson.dumps(rerated.new.to_dict())))
                if len(pending) >= PUBLISH_BATCH:
                    await publish(settings, CDRS, pending)
                    pending = []
            if progress and report.examined % PROGRESS_EVERY == 0:
                progress(report.examined)
        if pending:
            await publish(settings, CDRS, pending)
    finally:
        client.disconnect()
    return report


class _Refused(Exception):
    """A choice of calls that cannot be made; the message says why."""


def _choice(settings: Settings, args: argparse.Namespace, first: str | None,
            last: str | None) -> tuple[ZoneInfo, int | None, int | None, ReferenceData,
                                       int | None]:
    """The zone (`--timezone`), the period's bounds from `first` and `last` (None: open),
    the reference data and the user (`--user`) of both kinds of re-rating."""
    try:
        zone = ZoneInfo(args.timezone)
        start = moment(first, zone, last=False) if first is not None else None
        end = moment(last, zone, last=True) if last is not None else None
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise _Refused(str(exc)) from exc
    if start is not None and end is not None and start > end:
        raise _Refused("--from is after --to")
    data = asyncio.run(load_reference_data(settings))
    user_id = None
    if args.user is not None:
        user_id = find_user(data, args.user)
        if user_id is None:
            raise _Refused(f"user {args.user!r} is not known")
    return zone, start, end, data, user_id


def moment(text: str, zone: ZoneInfo, *, last: bool) -> int:
    """Unix seconds of a period bound: a date is its first second, or with `last` its
    last second; a date-time without an offset is in `zone`."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        at = datetime.fromisoformat(text)
        return int((at if at.tzinfo else at.replace(tzinfo=zone)).timestamp())
    if last:
        return int(datetime.combine(day + timedelta(days=1), time(), zone).timestamp()) - 1
    return int(datetime.combine(day, time(), zone).timestamp())


def find_user(data: ReferenceData, user: str) -> int | None:
    """A user id from an id or a username (as the reference data knows them)."""
    if user.isdigit():
        return int(user)
    return next((a.user_id for a in data.accounts.values() if a.username == user), None)


def render(report: RerateReport, selection: CdrSelection, zone: ZoneInfo,
           data: ReferenceData, settings: Settings, *, write: bool) -> str:
    def shown(seconds: int) -> str:
        return datetime.fromtimestamp(seconds, zone).strftime("%Y-%m-%d %H:%M:%S")

    who = "all users"
    if selection.user_id is not None:
        account = data.accounts.get(selection.user_id)
        who = f"user {selection.user_id}" + (f" ({account.username})" if account else "")
    tariff = "any tariff" if selection.tariff_id is None else f"tariff {selection.tariff_id}"
    lines = [f"{'what-if (testing mode)' if not write else 're-rated'}: calls started "
             f"{shown(selection.start)} to {shown(selection.end)} ({zone.key}), {who}, {tariff}",
             ""]
    lines += _table(report) if report.totals else ["no calls match"]
    if report.rejections:
        lines += ["", "failed (not rewritten; they keep their old price):"]
        lines += _failures(report.rejections, report.failed)
    lines.append("")
    lines.append(f"published {report.changed} new CDR versions to {settings.topic(CDRS)}"
                 if write else "nothing was published")
    return "\n".join(lines) + "\n"


def _table(report: RerateReport) -> list[str]:
    rows = [("currency", "examined", "changed", "unchanged", "failed", "old total",
             "new total", "difference")]
    rows += [(currency, str(t.examined), str(t.changed), str(t.unchanged), str(t.failed),
              f"{t.old_total:f}", f"{t.new_total:f}", f"{t.difference:f}")
             for currency, t in sorted(report.totals.items())]
    return _columns(rows)


def _progress(examined: int) -> None:
    print(f"\rexamined {examined} calls", end="", file=sys.stderr, flush=True)


# Rejected calls (`--rejected`): the open ones (no CDR yet) priced into their first CDR.


def run_rejected(settings: Settings, args: argparse.Namespace) -> int:
    if args.tariff is not None:
        print("--tariff does not apply to --rejected (a rejected call has no CDR); "
              "nothing was re-rated", file=sys.stderr)
        return 1
    try:
        # an empty --from or --to leaves that side of the period open here
        zone, start, end, data, user_id = _choice(settings, args, args.start or None,
                                                  args.end or None)
    except _Refused as refused:
        print(f"{refused}; nothing was re-rated", file=sys.stderr)
        return 1
    rejections = asyncio.run(read_rejections(settings))
    wanted = open_only(settings, [r for r in rejections.calls
                                  if chosen(r, start, end, user_id)])
    report = asyncio.run(rate_rejected_calls(settings, data, wanted, write=not args.what_if))
    print(render_rejected(report, (start, end), zone, user_id, data, settings,
                          write=not args.what_if), end="")
    return 0


def chosen(rejection: RejectedCall, start: int | None, end: int | None,
           user_id: int | None) -> bool:
    """Whether a rejected call started in the period (unix seconds, inclusive; None:
    unbounded) and is the user's (None: anyone's)."""
    second = rejection.call.start_ms // 1000
    return ((start is None or second >= start) and (end is None or second <= end)
            and (user_id is None or rejection.call.user_id == user_id))


async def rate_rejected_calls(settings: Settings, data: ReferenceData,
                              rejections: list[RejectedCall], *,
                              write: bool) -> RejectedReport:
    """Every given rejected call priced with `data`; when `write`, the rated ones are
    published to `cdrs` as version 1, keyed by the call id like the worker's CDRs."""
    report, pending = RejectedReport(keep=SHOWN_FAILURES), []
    for rejection in rejections:
        result = rate_rejected(rejection, data)
        report.add(result)
        if write and isinstance(result, Cdr):
            pending.append((result.call_id.encode(), orjson.dumps(result.to_dict())))
            if len(pending) >= PUBLISH_BATCH:
                await publish(settings, CDRS, pending)
                pending = []
    if pending:
        await publish(settings, CDRS, pending)
    return report


def render_rejected(report: RejectedReport, period: tuple[int | None, int | None],
                    zone: ZoneInfo, user_id: int | None, data: ReferenceData,
                    settings: Settings, *, write: bool) -> str:
    def shown(seconds: int) -> str:
        return datetime.fromtimestamp(seconds, zone).strftime("%Y-%m-%d %H:%M:%S")

    start, end = period
    if start is not None and end is not None:
        when = f"started {shown(start)} to {shown(end)} ({zone.key})"
    elif start is not None:
        when = f"started from {shown(start)} ({zone.key})"
    elif end is not None:
        when = f"started until {shown(end)} ({zone.key})"
    else:
        when = "started any time"
    who = "all users"
    if user_id is not None:
        account = data.accounts.get(user_id)
        who = f"user {user_id}" + (f" ({account.username})" if account else "")
    lines = [f"{'re-rated' if write else 'what-if (testing mode)'}: open rejected calls "
             f"{when}, {who}", ""]
    if not report.examined:
        lines.append("no open rejected calls match")
    else:
        lines.append(f"examined {report.examined}: rated {report.rated_calls}, "
                     f"still rejected {report.still_rejected}")
    if report.rated:
        lines += ["", *_columns([("currency", "rated", "user price")] + [
            (currency, str(count), f"{report.money[currency]:f}")
            for currency, count in sorted(report.rated.items())])]
    if report.still:
        lines += ["", "still rejected (they stay open):"]
        lines += _columns([(f"  {reason}", str(count))
                           for reason, count in sorted(report.still.items())])
        lines += _failures(report.rejections, report.still_rejected)
    lines.append("")
    lines.append(f"published {report.rated_calls} CDRs to {settings.topic(CDRS)}"
                 if write else "nothing was published")
    return "\n".join(lines) + "\n"


def _failures(rejections: Sequence[Rejection], count: int) -> list[str]:
    """The first SHOWN_FAILURES of `count` rejections, one a line, and how many more."""
    lines = [f"  {r.call_id}  {r.reason}: {r.detail}" for r in rejections[:SHOWN_FAILURES]]
    if count > SHOWN_FAILURES:
        lines.append(f"  ... and {count - SHOWN_FAILURES} more")
    return lines


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """The first column left-aligned, the others right-aligned, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join([row[0].ljust(widths[0])]
                      + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:],
                                                                  strict=True)])
            for row in rows]
