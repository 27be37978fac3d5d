"""The whole pipeline under load: switch events -> Kafka -> worker -> cdrs -> sink -> ClickHouse.

For each rate of `--rates` (calls per second), a publisher in this process sends
simulated calls (the demo users; each call's events at its hangup, so the hangup time
is when its `call_ended` is sent) for `--seconds`, while `cdrflow worker` and `cdrflow
sink` run as child processes on topics and a database of their own. Every 20th call is
followed: the delay from its hangup until its CDR is in the `cdrs` table that
`user_calls_get` reads (polled every 100 ms). A rate counts as sustained when the
worker keeps up (the call events it has not committed at the end of the step are at
most two seconds' worth: it commits every second) and the p99 delay is under 2 s.
Between steps the pipeline drains.

Printed per step: calls/s offered and published, CDRs/s projected, delay p50/p99/max,
the worker's lag at the end, CPU cores used by each process, and at the end the peak
memory (VmHWM) of the worker and the sink. `--profile` runs the worker under cProfile
and prints its top functions by own time.

    python -m bench.pipeline [--rates 250,500,1000,2000,5000] [--seconds 20] [--partitions 4]
                             [--profile]

The last line: `bench pipeline: <highest sustained rate> calls/s sustained`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from clickhouse_driver import Client

from cdrflow.demo_data import CALLERS, publish_demo_data
from cdrflow.settings import Settings
from projections.clickhouse import connect, migrate
from streams.events import encode
from streams.publisher import producer
from streams.simulator import calls
from streams.topics import CALL_EVENTS, ensure_topics, group_lag

REPO = Path(__file__).resolve().parent.parent
FOLLOW_EVERY = 20
TARGET_P99_S = 2.0
LAG_SECONDS = 2.0  # uncommitted events at the end of a step, in seconds of events


@dataclass
class Step:
    rate: int
    offered: int
    published_per_s: float
    projected_per_s: float
    p50: float
    p99: float
    max: float
    lag: int  # call events the worker had not committed at the end of the step
    events_per_s: float  # call events published per second
    cpu: dict[str, float]

    @property
    def sustained(self) -> bool:
        """The worker kept up (what it had not committed at the end is at most two
        seconds of events: its commit interval is one) and the p99 delay is under 2 s."""
        return self.lag <= LAG_SECONDS * self.events_per_s and self.p99 < TARGET_P99_S


class Pipeline:
    """The worker and the sink as child processes, with their CPU and memory."""

    def __init__(self, settings: Settings, profile: Path | None) -> None:
        self.settings = settings
        env = {**os.environ, **settings.to_env()}
        logs = settings.data_dir
        worker = [sys.executable, "-m", "cdrflow.cli", "worker"]
        if profile:
            worker = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m",
                      "cdrflow.cli", "worker"]
        self.children = {
            "worker": subprocess.Popen(worker, env=env, cwd=REPO,
                                       stdout=(logs / "worker.log").open("ab"),
                                       stderr=subprocess.STDOUT),
            "sink": subprocess.Popen([sys.executable, "-m", "cdrflow.cli", "sink"], env=env,
                                     cwd=REPO, stdout=(logs / "sink.log").open("ab"),
                                     stderr=subprocess.STDOUT),
        }

    def cpu(self) -> dict[str, float]:
        from bench.api import clickhouse_pid, process_tree_cpu

        found = {name: process_tree_cpu(child.pid) for name, child in self.children.items()}
        kafka = _kafka_pid()
        clickhouse = clickhouse_pid()
        if kafka:
            found["kafka"] = process_tree_cpu(kafka)
        if clickhouse:
            found["clickhouse"] = process_tree_cpu(clickhouse)
        return found

    def peak_memory_mb(self) -> dict[str, float]:
        found = {}
        for name, child in self.children.items():
            for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    found[name] = int(line.split()[1]) / 1024
        return found

    def stop(self) -> None:
        for child in self.children.values():
            child.terminate()
        for child in self.children.values():
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


def _kafka_pid() -> int | None:
    from infra.kafka import kafka_status

    pid = kafka_status().pid
    return pid if isinstance(pid, int) else None


async def worker_lag(settings: Settings) -> int:
    """Call events the worker's group has not committed yet."""
    return await group_lag(settings, settings.app_id, CALL_EVENTS)


def visible(client: Client, call_ids: list[str], since: int) -> set[str]:
    """Which of the calls are in `cdrs` (by the primary key: the demo users, calls that
    started after `since`, so the poll does not scan the table)."""
    rows = client.execute(
        "SELECT call_id FROM cdrs WHERE user_id IN %(users)s AND calldate >= "
        "toDateTime(%(since)s) AND call_id IN %(ids)s",
        {"users": tuple(c.user_id for c in CALLERS), "since": since, "ids": tuple(call_ids)})
    return {row[0] for row in rows}


async def step(settings: Settings, pipeline: Pipeline, rate: int, seconds: float,
               seed: int, follow_every: int = FOLLOW_EVERY) -> Step:
    client = connect(settings.clickhouse)
    poll_client = connect(settings.clickhouse)  # used from the poller's thread
    since = int(time.time()) - 3600  # no simulated call is longer than this
    generator = calls(CALLERS, seed)
    followed: dict[str, float] = {}  # call id -> hangup (send) time
    delays: list[float] = []
    total = int(rate * seconds)
    before = int(client.execute("SELECT count() FROM cdrs")[0][0])
    cpu0 = {**pipeline.cpu(), "publisher": time.process_time()}
    began = time.monotonic()
    stop_polling = asyncio.Event()

    async def poll() -> None:
        while not stop_polling.is_set() or followed:
            await asyncio.sleep(0.1)
            if followed:
                seen = await asyncio.to_thread(visible, poll_client, list(followed), since)
                now = time.time()
                for call_id in seen:
                    delays.append(now - followed.pop(call_id))
            if stop_polling.is_set() and time.monotonic() - began > seconds + 120:
                break  # calls still missing after two minutes: counted as not visible

    poller = asyncio.create_task(poll())
    async with producer(settings) as kafka:
        topic = settings.topic(CALL_EVENTS)
        events_sent = 0
        for sent in range(total):
            events = next(generator)
            events_sent += len(events)
            for event in events:
                await kafka.send(topic, encode(event), event.call_id.encode())
            if follow_every and sent % follow_every == 0:
                followed[events[0].call_id] = time.time()
            ahead = (sent + 1) / rate - (time.monotonic() - began)
            if ahead > 0:
                await asyncio.sleep(ahead)
        await kafka.flush()
    published = time.monotonic() - began
    lag = await worker_lag(settings)
    cpu1 = {**pipeline.cpu(), "publisher": time.process_time()}
    elapsed = time.monotonic() - began
    projected = int(client.execute("SELECT count() FROM cdrs")[0][0]) - before
    stop_polling.set()
    await poller
    lost = len(followed)
    ordered = sorted(delays) + [float("inf")] * lost
    return Step(
        rate=rate, offered=total, published_per_s=total / published,
        projected_per_s=projected / elapsed,
        p50=statistics.median(ordered) if ordered else float("nan"),
        p99=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0,
        max=ordered[-1] if ordered else 0.0,
        lag=lag, events_per_s=events_sent / published,
        cpu={name: (cpu1[name] - cpu0.get(name, 0.0)) / elapsed for name in cpu1},
    )


async def drain(settings: Settings, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while await worker_lag(settings) and time.monotonic() < deadline:
        await asyncio.sleep(1)


def print_steps(steps: list[Step]) -> None:
    names = sorted({name for s in steps for name in s.cpu})
    print(f"{'calls/s':>8}{'published':>10}{'CDRs/s':>8}{'p50 s':>8}{'p99 s':>8}{'max s':>8}"
          f"{'lag':>8}  sustained  CPU cores: {' / '.join(names)}")
    for s in steps:
        cpu = " / ".join(f"{s.cpu.get(name, 0.0):.2f}" for name in names)
        print(f"{s.rate:>8}{s.published_per_s:>10.0f}{s.projected_per_s:>8.0f}{s.p50:>8.2f}"
              f"{s.p99:>8.2f}{s.max:>8.2f}{s.lag:>8}  {'yes' if s.sustained else 'no':<9}  {cpu}")


def bench_settings(partitions: int) -> Settings:
    base = Settings.from_env()
    run = uuid.uuid4().hex[:8]
    data = REPO / "var" / "bench-pipeline" / run
    data.mkdir(parents=True, exist_ok=True)
    return base.with_(clickhouse=replace(base.clickhouse, database=f"cdrflow_pipeline_{run}"),
                      topic_prefix=f"pipeline-{run}-", app_id=f"cdrflow-pipeline-{run}",
                      partitions=partitions, data_dir=data)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline")
    parser.add_argument("--rates", default="250,500,1000,2000,5000")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--follow-every", type=int, default=FOLLOW_EVERY,
                        help="follow every Nth call to its CDR (0: none, no polling)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    rates = [int(r) for r in args.rates.split(",")]
    settings = bench_settings(args.partitions)
    asyncio.run(ensure_topics(settings))
    migrate(settings.clickhouse)
    asyncio.run(publish_demo_data(settings))
    profile = settings.data_dir / "worker.prof" if args.profile else None
    pipeline = Pipeline(settings, profile)
    steps: list[Step] = []
    memory: dict[str, float] = {}
    try:
        time.sleep(15)  # the worker joins its group and reads the reference data
        for n, rate in enumerate(rates):
            result = asyncio.run(step(settings, pipeline, rate, args.seconds, seed=n + 1,
                                      follow_every=args.follow_every))
            steps.append(result)
            print(f"{rate} calls/s: p99 {result.p99:.2f} s, lag {result.lag}", file=sys.stderr)
            asyncio.run(drain(settings))
            if not result.sustained and result.lag > 20 * rate:
                break  # far beyond the ceiling: higher rates only queue
        memory = pipeline.peak_memory_mb()
    finally:
        pipeline.stop()
        if not args.keep:
            connect(settings.clickhouse, database="default", timeout=600).execute(
                f"DROP DATABASE IF EXISTS `{settings.clickhouse.database}`")
    print(f"\n{args.partitions} partitions, one worker, one sink; {args.seconds:g} s per rate")
    print_steps(steps)
    print("peak memory (VmHWM): " + ", ".join(f"{k} {v:.0f} MB" for k, v in memory.items()))
    if profile and profile.exists():
        print("\nworker profile, top 20 by own time:")
        pstats.Stats(str(profile)).sort_stats("tottime").print_stats(20)
    best = max((s.rate for s in steps if s.sustained), default=0)
    print(f"bench pipeline: {best} calls/s sustained")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
