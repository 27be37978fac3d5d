"""Read-your-writes: how long after a page write is acknowledged the page shows it.

Starts Kafka and ClickHouse when they are not running, then its own sink and API in a
ClickHouse database and topics of its own with the demo's users; logs in as John and
adds phonebook entries one at a time. For each it times the POST's answer (the event is
in Kafka) and the moment `/phonebooks/list` first lists the entry (the sink projected
it), polling every 5 ms.

    python -m bench.writes [--writes 50]
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from cdrflow.demo_data import DEMO_PASSWORDS, publish_demo_data
from cdrflow.settings import Settings
from infra.services import start_all
from projections.clickhouse import connect, migrate

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Browser:
    """A logged-in page client (a cookie jar over urllib)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def post(self, path: str, **form: str) -> str:
        body = urllib.parse.urlencode(form).encode()
        with self.opener.open(self.base + path, body, timeout=10) as answer:
            return str(answer.read().decode())

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as answer:
            return str(answer.read().decode())


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def wait(condition: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if callable(condition) and condition():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"bench writes: {what} did not happen within {timeout:.0f} s")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.writes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=50)
    args = parser.parse_args(argv)
    base = Settings.from_env()
    start_all(base)
    run = uuid.uuid4().hex[:8]
    settings = replace(base, clickhouse=replace(base.clickhouse,
                                                database=f"cdrflow_bench_writes_{run}"),
                       topic_prefix=f"bench-writes-{run}-", app_id=f"bench-writes-{run}",
                       api_port=free_port())
    migrate(settings.clickhouse)
    asyncio.run(publish_demo_data(settings))
    env = {**os.environ, **settings.to_env()}
    children = [subprocess.Popen([sys.executable, "-m", "cdrflow.cli", command], env=env,
                                 cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for command in ("sink", "api")]
    try:
        page = Browser(f"http://127.0.0.1:{settings.api_port}")
        wait(lambda: "<status>ok</status>" in page.post(
            "/billing/api/login", u="john", p=DEMO_PASSWORDS["john"]), "logging in")
        acked, visible = [], []
        for n in range(args.writes):
            name = f"probe {run} {n}"
            began = time.perf_counter()
            answer = page.post("/phonebooks/add_new/2", number="370600", name=name)
            acked.append(time.perf_counter() - began)
            if "<status>ok</status>" not in answer:
                raise SystemExit(f"bench writes: the write was refused: {answer}")
            while name not in page.get("/phonebooks/list"):
                time.sleep(0.005)
            visible.append(time.perf_counter() - began)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=30)
        connect(settings.clickhouse, database="default").execute(
            f"DROP DATABASE IF EXISTS `{settings.clickhouse.database}`")
    print(f"{args.writes} phonebook entries, one at a time (sink batch interval "
          f"{settings.sink_batch_seconds} s)")
    print(f"{'':28} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for label, values in (("write acknowledged", acked), ("visible on the page", visible)):
        print(f"{label:28} {statistics.median(values) * 1000:8.0f} "
              f"{percentile(values, 0.99) * 1000:8.0f} {max(values) * 1000:8.0f}")
    print(f"bench writes: {percentile(visible, 0.99) * 1000:.0f} ms p99 until visible")


if __name__ == "__main__":
    main()
