"""`cdrflow projections rebuild`: drop the ClickHouse projections and replay the topics.

The sink must be stopped. The rebuild reads every projected topic from its beginning to
its end at the start, with the sink's own record -> rows functions, inserts large
batches, and finally commits the sink's consumer groups at the offsets where it stopped.
Decisions and figures: docs/projections.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, TextIO

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError
from clickhouse_driver import Client

from cdrflow.settings import Settings
from projections import account_tables, active_calls, faxes, rejections, tariff_rates, writer
from projections.clickhouse import connect, reset
from streams.sink import PROJECTIONS, Record, group_id, rows_by_table
from streams.topics import ensure_topics, partitions_of

REFUSED = 2
TABLES_OF: dict[str, tuple[str, ...]] = {
    "cdrs": ("cdrs",),
    "accounts": tuple(account_tables.TABLES),
    "tariffs": tuple(tariff_rates.TABLES),
    "faxes": tuple(faxes.TABLES),
    "active-calls": tuple(active_calls.TABLES),
    "dead-letters": tuple(rejections.TABLES),
}


class Refused(Exception):
    """The rebuild would be unsafe now (a sink is running); nothing was changed."""


@dataclass
class Replay:
    """One projection's replay: its topic's range at the start and what came of it."""

    name: str
    topic: str
    starts: dict[TopicPartition, int]
    ends: dict[TopicPartition, int]
    records: int = 0
    rows: int = 0
    bad: list[tuple[Record, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.ends[tp] - self.starts[tp] for tp in self.ends)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    projections = commands.add_parser(
        "projections", help="rebuild the ClickHouse projections from the topics")
    actions = projections.add_subparsers(dest="action", required=True)
    rebuild_ = actions.add_parser(
        "rebuild", help="drop the projection tables and replay the topics into them "
                        "(stop the sink first)")
    rebuild_.add_argument("--only", action="append", choices=tuple(PROJECTIONS),
                          help="rebuild only this projection (repeatable); default: all")
    rebuild_.add_argument("--yes", action="store_true",
                          help="do not ask for confirmation (needed without a terminal)")
    rebuild_.add_argument("--batch-size", type=int, default=100_000,
                          help="rows per INSERT (default 100000)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    names = tuple(dict.fromkeys(args.only or PROJECTIONS))
    tables = sorted(table for name in names for table in TABLES_OF[name])
    if not args.yes and not sys.stdin.isatty():
        print("refused: this drops tables; pass --yes to run without a terminal",
              file=sys.stderr)
        return REFUSED
    try:
        asyncio.run(check_stopped(settings, names))
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return REFUSED
    database = settings.clickhouse.database
    if not args.yes:
        print(f"This drops these tables of ClickHouse database {database!r} at "
              f"{settings.clickhouse.host}:{settings.clickhouse.port}: {', '.join(tables)}\n"
              f"and replays topics "
              f"{', '.join(settings.topic(PROJECTIONS[n][0]) for n in names)} into them.",
              file=sys.stderr)
        if input("Type the database name to go on: ").strip() != database:
            print("refused: not confirmed; nothing changed", file=sys.stderr)
            return REFUSED
    if not args.verbose:
        logging.getLogger("aiokafka").setLevel(logging.WARNING)
    began = time.perf_counter()
    try:
        replays = asyncio.run(rebuild(settings, names, args.batch_size, out=sys.stderr))
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return REFUSED
    records = sum(r.records for r in replays)
    seconds = sum(r.seconds for r in replays)
    print(f"rebuilt {', '.join(names)} in {time.perf_counter() - began:.1f} s: "
          f"{records:,} records, {sum(r.rows for r in replays):,} rows "
          f"(replay {seconds:.1f} s, {records / seconds if seconds else 0:,.0f} records/s); "
          f"{sum(len(r.bad) for r in replays)} bad records skipped (dead-lettered before)")
    return 0


async def check_stopped(settings: Settings, names: Sequence[str]) -> None:
    """Raise Refused while a sink consumer group of these projections has members."""
    live = await live_members(settings, [group_id(settings, name) for name in names])
    if live:
        groups = ", ".join(f"{group} ({count} members)" for group, count in live.items())
        raise Refused(f"the sink is running (consumer groups {groups}); stop every "
                      "`cdrflow sink` first and wait until its members have left")


async def live_members(settings: Settings, groups: list[str]) -> dict[str, int]:
    """Consumer groups among `groups` that have members (or are rebalancing), with
    their member counts."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        live = {}
        for group in groups:  # one by one: aiokafka 0.14 misreads answers about several
            for attempt in range(20):
                try:
                    responses = await admin.describe_consumer_groups([group])
                    break
                except GroupCoordinatorNotAvailableError:  # offsets topic still loading
                    if attempt == 19:
                        raise
                    await asyncio.sleep(0.5)
            for _, name, state, _, _, members, *_ in (g for r in responses for g in r.groups):
                if members or state not in ("Empty", "Dead"):
                    live[name] = len(members)
        return live
    finally:
        await admin.close()


async def rebuild(settings: Settings, names: Sequence[str] = tuple(PROJECTIONS),
                  batch_size: int = 100_000, out: TextIO | None = None) -> list[Replay]:
    """Drop and replay the named projections; raises Refused while a sink runs."""
    await ensure_topics(settings)
    await check_stopped(settings, names)
    replays = [await _plan(settings, name) for name in names]
    for replay in replays:  # a rebuild that dies half-way leaves the sink to replay it all
        await _commit(settings, replay, replay.starts)
    reset(settings.clickhouse, {table for name in names for table in TABLES_OF[name]})
    client = connect(settings.clickhouse)
    for replay in replays:
        await _replay(settings, replay, client, batch_size, out)
    await check_stopped(settings, names)
    for replay in replays:
        await _commit(settings, replay, replay.ends)
    return replays


async def _plan(settings: Settings, name: str) -> Replay:
    topic = settings.topic(PROJECTIONS[name][0])
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await partitions_of(settings, topic)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        return Replay(name, topic, starts, ends)
    finally:
        await consumer.stop()


async def _replay(settings: Settings, replay: Replay, client: Client, batch_size: int,
                  out: TextIO | None) -> None:
    """Read the topic's range, turn records into rows and insert them in large batches
    (one INSERT in flight while the next batch is read and turned)."""
    to_rows = PROJECTIONS[replay.name][1]
    began, shown = time.perf_counter(), 0.0
    pending: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    writing: asyncio.Task[int] | None = None
    async with aclosing(_records(settings, replay)) as batches:
        async for records, done in batches:
            tables, bad = rows_by_table(to_rows, records)
            replay.records += len(records)
            replay.bad += bad
            for table, rows in tables.items():
                pending[table] += rows
            if sum(map(len, pending.values())) >= batch_size:
                replay.rows += await writing if writing else 0
                writing = asyncio.create_task(asyncio.to_thread(_insert, client, pending))
                pending = defaultdict(list)
            replay.seconds = time.perf_counter() - began
            if out and replay.seconds - shown >= 0.2:
                shown = replay.seconds
                _show(out, replay, done)
    replay.rows += (await writing if writing else 0) + _insert(client, pending)
    replay.seconds = time.perf_counter() - began
    if out:
        print(f"\r{replay.name}: {replay.total:,}/{replay.total:,} records, {replay.rows:,} rows "
              f"in {replay.seconds:.1f} s ({_rate(replay):,.0f} records/s), "
              f"{len(replay.bad)} bad   ", file=out, flush=True)
        for record, reason in replay.bad[:5]:
            print(f"  bad record {record.topic}:{record.partition}:{record.offset}: {reason}",
                  file=out)


async def _records(settings: Settings,
                   replay: Replay) -> AsyncGenerator[tuple[list[Record], int], None]:
    """Batches of the topic's records from `starts` up to (not including) `ends`, each with
    the offsets done so far over all partitions."""
    open_ = {tp for tp in replay.ends if replay.starts[tp] < replay.ends[tp]}
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                                enable_auto_commit=False, max_partition_fetch_bytes=8 << 20)
    await consumer.start()
    await asyncio.sleep(0)  # aiokafka 0.14: stop() right after start() raises CancelledError
    try:
        consumer.assign(list(replay.ends))
        for tp in replay.ends:
            consumer.seek(tp, replay.starts[tp])
        while open_:
            batches = await consumer.getmany(*open_, timeout_ms=1000, max_records=20_000)
            done = 0
            for tp, end in replay.ends.items():
                position = min(await consumer.position(tp), end)
                done += position - replay.starts[tp]
                if tp in open_ and position >= end:
                    open_.discard(tp)
                    consumer.pause(tp)
            yield [r for tp, part in batches.items() for r in part
                   if r.offset < replay.ends[tp]], done
    finally:
        await consumer.stop()


def _insert(client: Client, tables: dict[str, list[tuple[Any, ...]]]) -> int:
    return sum(writer.insert(client, table, rows) for table, rows in tables.items())


def _show(out: TextIO, replay: Replay, done: int) -> None:
    rate = _rate(replay)
    eta = (replay.total - done) / rate if rate else 0.0
    print(f"\r{replay.name}: {done:,}/{replay.total:,} records, {rate:,.0f} records/s, "
          f"ETA {eta:,.0f} s, {len(replay.bad)} bad   ", end="", file=out, flush=True)


def _rate(replay: Replay) -> float:
    return replay.records / replay.seconds if replay.seconds else 0.0


async def _commit(settings: Settings, replay: Replay,
                  offsets: dict[TopicPartition, int]) -> None:
    """Set the sink group's committed offsets of this projection's topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                                group_id=group_id(settings, replay.name),
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(dict(offsets))
    finally:
        await consumer.stop()

