"""Call statistics read API under load: user_calls_get for one user-month and the main page.

Builds its own database (`cdrflow_bench` unless --database says otherwise): `--users`
users (one password hash shared by all, so that loading them takes no scrypt time) and
`--cdrs` CDRs over the 12 months that end with the current one, inserted directly with
clickhouse-driver in large columnar blocks (progress on stderr). The CDRs are spread
evenly over the users and the months, except that user 1 has exactly 1,000 calls in the
current month (its other calls are in the other months). `--reuse` keeps a database
that already holds the wanted numbers.

Then it serves the API with uvicorn in a child process (`--workers`), and a second
process (the load generator: asyncio over raw HTTP/1.1 keep-alive sockets, one
connection per client) asks, for `--seconds` after a warm-up, with `--concurrency`
clients at once:

- `user_calls_get` for user 1 and the current month (1,000 calls, about 900 kB of XML),
- `/callc/main`, the main page, logged in as user 1.

It prints p50, p99, max and requests/s per endpoint, the CPU used by the load generator,
the API and ClickHouse during each run (and the API's CPU time per request, which other
processes' load disturbs less than the latencies), and where the time of one
user_calls_get goes.

    python -m bench.api [--cdrs 10000000] [--users 10000] [--seconds 20] [--concurrency 16]
                        [--workers 1] [--http auto|h11|httptools] [--loop auto|asyncio|uvloop]
                        [--reuse]

The last line is the headline: `bench api: <p99 of user_calls_get> ms p99`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from clickhouse_driver import Client
from starlette.applications import Starlette

from api.app import create_app
from api.calls_page import CallsPage, Shown, render_calls_page
from api.hash import mor_hash
from api.main_page import periods
from api.user_calls import HASHED
from cdrflow.passwords import hash_password
from cdrflow.settings import Settings
from projections.accounts import credentials_by_id
from projections.balance import balance
from projections.call_stats import main_stats
from projections.clickhouse import connect, migrate
from projections.queries import CallFilter, _call, calls_sql, user_by_username
from projections.rows import CDR_COLUMNS, cdr_row, user_row
from projections.writer import insert
from rating.cdr import Cdr
from rating.reference import Account

DATABASE = "cdrflow_bench"
SECRET = "bench-secret"  # noqa: S105 - the bench database's API secret
SESSION_SECRET = "bench-session-secret"  # noqa: S105 - signs the bench sessions
PASSWORD = "bench-password"  # noqa: S105 - every bench user's password
TARGET_USER = 1
TARGET_CALLS = 1000
MONTHS = 12
TEMPLATES = 4096
BLOCK = 250_000
# Columns left out of the INSERT: every bench call has the value their DEFAULT gives
# (no reseller, no DID, no tax, the tariff's own currency), and clickhouse-driver
# converts each Decimal item in Python, so eleven fewer Decimal columns load faster.
DEFAULTED = ("reseller_id", "reseller_rate", "reseller_price", "did", "did_inc_price",
             "did_price", "did_prov_price", "exchange_rate", "tax_percent")
T = TypeVar("T")


# ---------------------------------------------------------------------------- settings

def bench_settings(database: str) -> Settings:
    base = Settings.from_env()
    return base.with_(clickhouse=replace(base.clickhouse, database=database),
                      api_secret=SECRET, session_secret=SESSION_SECRET)


def create_bench_app() -> Starlette:
    """uvicorn's factory (`--factory bench.api:create_bench_app`): the settings come from
    the environment the bench gave the child process."""
    return create_app(Settings.from_env())


# ----------------------------------------------------------------------------- months

def months_ending(now: datetime, count: int) -> list[tuple[int, int]]:
    """[start, end) epoch seconds of the `count` UTC months that end with `now`'s."""
    year, month = now.year, now.month
    found = []
    for _ in range(count):
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        found.append((int(start.timestamp()), int(end.timestamp())))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found[::-1]


# -------------------------------------------------------------------------- generator

def templates(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """`count` rated calls as cdrs rows (by column), checked by projections.rows.cdr_row."""
    found = []
    for n in range(count):
        answered = rng.random() < 0.6
        billsec = min(14_400, max(1, int(rng.lognormvariate(3.8, 1.2)))) if answered else 0
        cc = rng.choice(("370", "371", "372", "44", "49", "1", "7", "48"))
        prefix = cc + str(rng.randint(1, 99))
        dst = prefix + "".join(rng.choices("0123456789", k=12 - len(prefix)))
        micro = rng.randint(5_000, 300_000)  # per minute, 6 decimals
        rate = Decimal(micro).scaleb(-6)
        price = (rate * billsec / 60).quantize(Decimal("0.000001"))
        buy = (rate / 2).quantize(Decimal("0.000001"))
        cost = (buy * billsec / 60).quantize(Decimal("0.000001"))
        disposition = "ANSWERED" if answered else rng.choice(("NO ANSWER", "BUSY", "FAILED"))
        cause = 16 if answered else rng.choice((17, 19, 21, 34))
        ring = rng.randint(2_000, 20_000)
        cdr = Cdr(
            call_id="", version=1, start_ms=0, answer_ms=ring if answered else 0,
            end_ms=ring + billsec * 1000, user_id=0, device_id=0, server_id=1, uniqueid="",
            channel="", src="37052000" + str(100 + n % 900), dst=dst,
            clid="37052000" + str(100 + n % 900), disposition=disposition,
            hangup_cause=cause, duration=(ring + billsec * 1000) // 1000, billsec=billsec,
            user_billsec=billsec, prefix=prefix, destination=f"Country {cc} {prefix}",
            tariff_id=1, tariff_version=1, currency="USD", user_rate=rate, user_price=price,
            provider_id=5, provider_name="Carrier A", provider_rate=buy, provider_price=cost,
            profit=price - cost, direction="outgoing", destination_group=f"Country {cc}",
            tariff_currency="USD", user_price_with_tax=price,
            rate_pieces=json.dumps([[0, billsec, str(rate)]]) if answered else "[]",
        )
        row = dict(zip(CDR_COLUMNS, cdr_row(cdr), strict=True))
        found.append(row)
    return found


@dataclass(frozen=True)
class Plan:
    """Which user and month each generated row belongs to."""

    cdrs: int
    users: int
    months: list[tuple[int, int]]
    now: int

    @property
    def target_month(self) -> tuple[int, int]:
        return self.months[-1]

    def blocks(self) -> Iterator[tuple[int, int, int, int, int]]:
        """(first row number, rows, month index, first user, users cycled) per block;
        the target user's 1,000 calls are the last block of the target month."""
        others = self.cdrs - TARGET_CALLS
        per_month, extra = divmod(others, MONTHS)
        row = 0
        for index in range(MONTHS):
            wanted = per_month + (1 if index < extra else 0)
            target = index == MONTHS - 1
            first_user, cycled = (TARGET_USER + 1, self.users - 1) if target else (1, self.users)
            done = 0
            while done < wanted:
                size = min(BLOCK, wanted - done)
                yield row, size, index, first_user, cycled
                row, done = row + size, done + size
            if target:
                yield row, TARGET_CALLS, index, TARGET_USER, 1
                row += TARGET_CALLS


def build_block(plan: Plan, tmpl: dict[str, list[Any]], columns: Sequence[str],
                first: int, size: int, month: int, first_user: int,
                cycled: int) -> list[list[Any]]:
    """The columns of one block (columnar, in `columns` order)."""
    start, end = plan.months[month]
    end = min(end, plan.now)  # no call after now in the current month
    span = max(1, end - start)
    numbers = range(first, first + size)
    pick = [(n * 2_654_435_761) % TEMPLATES for n in numbers]
    seconds = [start + (n * 40_503) % span for n in numbers]
    per_row: dict[str, list[Any]] = {
        "call_id": [f"bench-{n}" for n in numbers],
        "calldate": seconds,
        "calldate_ms": [n % 1000 for n in numbers],
        "user_id": [first_user + n % cycled for n in numbers],
    }
    per_row["device_id"] = [100_000 + u for u in per_row["user_id"]]
    per_row["uniqueid"] = [f"{s}.{n}" for s, n in zip(seconds, numbers, strict=True)]
    per_row["channel"] = [f"SIP/{u}-{n % 65536:04x}"
                          for u, n in zip(per_row["user_id"], numbers, strict=True)]
    answer, end_ms = tmpl["answer_ms"], tmpl["end_ms"]
    per_row["answer_ms"] = [(s * 1000 + answer[t]) if answer[t] else 0
                            for s, t in zip(seconds, pick, strict=True)]
    per_row["end_ms"] = [s * 1000 + end_ms[t] for s, t in zip(seconds, pick, strict=True)]
    out = []
    for column in columns:
        if column in per_row:
            out.append(per_row[column])
        else:
            values = tmpl[column]
            out.append([values[t] for t in pick])
    return out


def load(client: Client, plan: Plan, seed: int) -> float:
    """Insert the plan's CDRs; returns rows/s."""
    rng = random.Random(seed)
    rows = templates(rng, TEMPLATES)
    columns = [c for c in CDR_COLUMNS if c not in DEFAULTED]
    tmpl = {c: [row[c] for row in rows] for c in columns}
    sql = f"INSERT INTO cdrs ({', '.join(columns)}) VALUES"
    began = time.perf_counter()
    built = 0.0
    done = 0
    for first, size, month, first_user, cycled in plan.blocks():
        t0 = time.perf_counter()
        block = build_block(plan, tmpl, columns, first, size, month, first_user, cycled)
        built += time.perf_counter() - t0
        client.execute(sql, block, columnar=True)
        done += size
        elapsed = time.perf_counter() - began
        rate = done / elapsed
        eta = (plan.cdrs - done) / rate if rate else 0.0
        print(f"\rloading cdrs: {done:,}/{plan.cdrs:,} rows, {rate:,.0f} rows/s, "
              f"ETA {eta:,.0f} s   ", end="", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - began
    print(file=sys.stderr)
    print(f"loaded {done:,} CDRs in {elapsed:.1f} s: {done / elapsed:,.0f} rows/s "
          f"(building the rows {built:.1f} s, the driver and ClickHouse the rest)")
    return done / elapsed


def load_users(client: Client, users: int) -> None:
    password_hash = hash_password(PASSWORD)  # one scrypt for everyone
    rows = [user_row(Account(n, f"user{n}", "Bench", f"User {n}", "user", 0, "USD", 1, "UTC",
                             password_hash=password_hash), 1)
            for n in range(1, users + 1)]
    for first in range(0, len(rows), 100_000):
        insert(client, "users", rows[first:first + 100_000])


def settle(client: Client, database: str, timeout: float = 300.0) -> int:
    """Wait until ClickHouse has no merge running on the bench tables (a merge after the
    load would take CPU from the measurement); returns the active parts of cdrs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and client.execute(
            "SELECT count() FROM system.merges WHERE database = %(d)s", {"d": database})[0][0]:
        time.sleep(1)
    return int(client.execute(
        "SELECT count() FROM system.parts WHERE database = %(d)s AND table = 'cdrs' "
        "AND active", {"d": database})[0][0])


def prepare(settings: Settings, plan: Plan, reuse: bool, seed: int) -> Plan:
    """A database holding the plan (reused when asked and it does); the plan in force."""
    endpoint = settings.clickhouse
    if reuse:
        try:
            client = connect(endpoint)
            cdrs = client.execute("SELECT count() FROM cdrs")[0][0]
            users = client.execute("SELECT count() FROM users FINAL")[0][0]
        except Exception:  # no such database yet
            cdrs = users = -1
        if cdrs == plan.cdrs and users == plan.users:
            month = client.execute(
                "SELECT toYYYYMM(calldate) AS m FROM cdrs WHERE user_id = %(u)s "
                "GROUP BY m HAVING count() = %(n)s ORDER BY m DESC LIMIT 1",
                {"u": TARGET_USER, "n": TARGET_CALLS})
            if month:
                year, number = divmod(int(month[0][0]), 100)
                months = months_ending(datetime(year, number, 1, tzinfo=UTC), MONTHS)
                print(f"reusing {endpoint.database}: {cdrs:,} CDRs, {users:,} users")
                return replace(plan, months=months, now=months[-1][1])
    connect(endpoint, database="default").execute(f"DROP DATABASE IF EXISTS `{endpoint.database}`")
    migrate(endpoint)
    client = connect(endpoint)
    load_users(client, plan.users)
    load(client, plan, seed)
    return plan


# ---------------------------------------------------------------------------- the API

@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(settings: Settings, workers: int, port: int, http: str = "auto",
          loop: str = "auto") -> Server:
    """uvicorn in a child process; `http` and `loop` as uvicorn's options ("auto": httptools
    and uvloop, installed with cdrflow, as `cdrflow api` runs)."""
    env = {**os.environ, **settings.to_env()}
    command = [sys.executable, "-m", "uvicorn", "--factory", "bench.api:create_bench_app",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--http", http, "--loop", loop, "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent)
    server = Server(process, port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the API did not start")
        try:
            status, _, _ = asyncio.run(fetch(port, http_request("GET", "/callc/login")))
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("the API did not answer within 60 s")


# ------------------------------------------------------------------------ raw HTTP/1.1

def http_request(method: str, path: str, form: dict[str, str] | None = None,
                 cookie: str = "") -> bytes:
    body = urllib.parse.urlencode(form).encode() if form is not None else b""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if form is not None:
        head += ["Content-Type: application/x-www-form-urlencoded",
                 f"Content-Length: {len(body)}"]
    if cookie:
        head.append(f"Cookie: {cookie}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One response (Content-Length or chunked) from a keep-alive connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            headers[name] = (headers[name] + "; " if name in headers else "") + value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(part[:-2] for part in parts)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def fetch(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        return await read_response(reader)
    finally:
        writer.close()


def calls_request(plan: Plan) -> bytes:
    start, end = plan.target_month
    values = {"s_user": str(TARGET_USER), "period_start": str(start),
              "period_end": str(end - 1)}
    form = {"u": f"user{TARGET_USER}", **values,
            "hash": mor_hash((values[name] for name in HASHED if name in values), SECRET)}
    return http_request("POST", "/billing/api/user_calls_get", form)


def main_page_request(port: int) -> bytes:
    login = http_request("POST", "/billing/api/login", {"u": f"user{TARGET_USER}",
                                                        "p": PASSWORD})
    status, headers, body = asyncio.run(fetch(port, login))
    if status != 200 or b"logged in" not in body:
        raise RuntimeError(f"login failed: {status} {body[:200]!r}")
    cookie = headers.get("set-cookie", "").split(";")[0]
    return http_request("GET", "/callc/main", cookie=cookie)


# ----------------------------------------------------------------- the load generator

async def _load(port: int, request: bytes, concurrency: int, warmup: float,
                seconds: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    began = loop.time()
    measure_from, measure_to = began + warmup, began + warmup + seconds
    latencies: list[float] = []
    errors = 0
    cpu: list[float] = []

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                sent = loop.time()
                if sent >= measure_to:
                    return
                writer.write(request)
                status, _, _ = await read_response(reader)
                done = loop.time()
                if sent >= measure_from and done <= measure_to:
                    latencies.append(done - sent)
                    errors += status != 200
        finally:
            writer.close()

    async def clock() -> None:
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        cpu.append(time.process_time())
        await asyncio.sleep(max(0.0, measure_to - loop.time()))
        cpu.append(time.process_time())

    await asyncio.gather(clock(), *(client() for _ in range(concurrency)))
    return {"latencies": latencies, "errors": errors, "seconds": seconds,
            "client_cpu": (cpu[1] - cpu[0]) / seconds}


def client_main(spec: dict[str, Any]) -> None:
    """The load generator's process: one run, its result as JSON on stdout."""
    result = asyncio.run(_load(spec["port"], spec["request"].encode("latin-1"),
                               spec["concurrency"], spec["warmup"], spec["seconds"]))
    json.dump(result, sys.stdout)


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def clickhouse_pid() -> int | None:
    from infra.clickhouse import clickhouse_status  # only for the CPU figure

    pid = getattr(clickhouse_status(), "pid", None)
    return pid if isinstance(pid, int) else None


@dataclass(frozen=True)
class Run:
    name: str
    requests: int
    errors: int
    rps: float
    p50: float
    p99: float
    max: float
    client_cpu: float
    api_cpu: float
    clickhouse_cpu: float | None
    seconds: float


def run_load(name: str, server: Server, request: bytes, concurrency: int, warmup: float,
             seconds: float) -> Run:
    spec = {"port": server.port, "request": request.decode("latin-1"),
            "concurrency": concurrency, "warmup": warmup, "seconds": seconds}
    ch = clickhouse_pid()
    child = subprocess.Popen([sys.executable, "-m", "bench.api", "--client", json.dumps(spec)],
                             stdout=subprocess.PIPE)
    time.sleep(warmup)
    api0, ch0 = process_tree_cpu(server.process.pid), process_tree_cpu(ch) if ch else 0.0
    time.sleep(seconds)
    api1, ch1 = process_tree_cpu(server.process.pid), process_tree_cpu(ch) if ch else 0.0
    out, _ = child.communicate()
    if child.returncode:
        raise RuntimeError(f"the load generator failed ({child.returncode})")
    result = json.loads(out)
    latencies = sorted(result["latencies"])
    if not latencies:
        raise RuntimeError(f"{name}: no request finished in the measured window")
    return Run(
        name=name, requests=len(latencies), errors=result["errors"],
        rps=len(latencies) / seconds, p50=statistics.median(latencies) * 1000,
        p99=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        max=latencies[-1] * 1000, client_cpu=result["client_cpu"],
        api_cpu=(api1 - api0) / seconds,
        clickhouse_cpu=(ch1 - ch0) / seconds if ch else None, seconds=seconds,
    )


def print_runs(runs: Sequence[Run]) -> None:
    """The runs; `API CPU ms/req` (the API's CPU time over the requests answered) depends
    less on other processes' load than the latencies do."""
    print(f"{'endpoint':<24}{'requests':>9}{'errors':>7}{'req/s':>9}{'p50 ms':>9}"
          f"{'p99 ms':>9}{'max ms':>9}{'API CPU ms/req':>16}"
          "   CPU cores used: client / API / ClickHouse")
    for r in runs:
        ch = f"{r.clickhouse_cpu:.2f}" if r.clickhouse_cpu is not None else "?"
        per_request = r.api_cpu * r.seconds * 1000 / r.requests
        print(f"{r.name:<24}{r.requests:>9}{r.errors:>7}{r.rps:>9.1f}{r.p50:>9.1f}"
              f"{r.p99:>9.1f}{r.max:>9.1f}{per_request:>16.1f}"
              f"   {r.client_cpu:.2f} / {r.api_cpu:.2f} / {ch}")


# --------------------------------------------------------------------------- profile

class Traced:
    """A clickhouse-driver client that names its queries, so that the server's own time
    and rows read can be looked up in system.query_log afterwards."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.ids: list[str] = []

    def execute(self, query: str, params: Any = None, **kwargs: Any) -> Any:
        query_id = f"bench-api-{os.getpid()}-{time.monotonic_ns()}"
        self.ids.append(query_id)
        return self.client.execute(query, params, query_id=query_id,
                                   settings={"log_queries": 1}, **kwargs)

    def server_times(self) -> dict[str, tuple[int, int]]:
        """query id -> (server milliseconds, rows read)."""
        self.client.execute("SYSTEM FLUSH LOGS")
        rows = self.client.execute(
            "SELECT query_id, query_duration_ms, read_rows FROM system.query_log "
            "WHERE type = 2 AND query_id IN %(ids)s", {"ids": tuple(self.ids)})
        return {str(q): (int(ms), int(read)) for q, ms, read in rows}


@dataclass
class Part:
    wall: list[float]
    cpu: list[float]  # this thread's CPU time: less disturbed by other processes' load
    ids: list[list[str]]


class Profile:
    """Parts of a request timed apart, each `repeat` times; medians printed."""

    def __init__(self, traced: Traced) -> None:
        self.traced = traced
        self.parts: dict[str, Part] = {}

    def time(self, name: str, func: Callable[[], T]) -> T:
        before = len(self.traced.ids)
        began, began_cpu = time.perf_counter(), time.thread_time()
        value = func()
        part = self.parts.setdefault(name, Part([], [], []))
        part.wall.append((time.perf_counter() - began) * 1000)
        part.cpu.append((time.thread_time() - began_cpu) * 1000)
        part.ids.append(self.traced.ids[before:])
        return value

    def print(self, title: str, whole: list[float], whole_cpu: float) -> None:
        """Medians; `whole_cpu` is the API process's CPU ms per request."""
        server = self.traced.server_times()
        print(f"\n{title}")
        print(f"  {'part':<48}{'wall ms':>9}{'CPU ms':>9}{'server ms':>11}{'rows read':>11}")
        for name, part in self.parts.items():
            ms = [sum(server.get(q, (0, 0))[0] for q in ids) for ids in part.ids]
            read = [sum(server.get(q, (0, 0))[1] for q in ids) for ids in part.ids]
            queried = any(part.ids)
            print(f"  {name:<48}{statistics.median(part.wall):>9.1f}"
                  f"{statistics.median(part.cpu):>9.1f}"
                  f"{statistics.median(ms) if queried else '':>11}"
                  f"{statistics.median(read) if queried else '':>11}")
        accounted = sum(statistics.median(p.wall) for p in self.parts.values())
        accounted_cpu = sum(statistics.median(p.cpu) for p in self.parts.values())
        total = statistics.median(whole)
        print(f"  {'sum of the parts':<48}{accounted:>9.1f}{accounted_cpu:>9.1f}")
        print(f"  {'whole request over HTTP (keep-alive, alone)':<48}{total:>9.1f}"
              f"{whole_cpu:>9.1f}")
        print(f"  {'the rest: HTTP, Starlette, spool, threads':<48}{total - accounted:>9.1f}"
              f"{whole_cpu - accounted_cpu:>9.1f}")


def sequential(server: Server, request: bytes, repeat: int) -> tuple[list[float], float]:
    """`repeat` requests one after the other: their times (ms) and the API process's CPU
    ms per request (from /proc, in ticks of 10 ms: hence many requests)."""
    before = process_tree_cpu(server.process.pid)
    times, _ = asyncio.run(_sequential(server.port, request, repeat))
    return times, (process_tree_cpu(server.process.pid) - before) * 1000 / repeat


async def _sequential(port: int, request: bytes, repeat: int) -> tuple[list[float], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    times, body = [], b""
    try:
        for _ in range(repeat):
            began = time.perf_counter()
            writer.write(request)
            _, _, body = await read_response(reader)
            times.append((time.perf_counter() - began) * 1000)
    finally:
        writer.close()
    return times, body


def profile(settings: Settings, plan: Plan, server: Server, main_page: bytes | None,
            repeat: int = 5) -> None:
    """Where the time of one request goes: each part run apart in this process, the
    ClickHouse server's own time and rows read from system.query_log."""
    traced = Traced(connect(settings.clickhouse))
    start, end = plan.target_month
    where = CallFilter(user_id=TARGET_USER, start=start, end=end - 1)
    sql, params = calls_sql(where)

    calls_profile = Profile(traced)
    count, size = 0, 0
    for _ in range(repeat):
        # the shown user is the caller: api.user_calls asks for it only when it is not
        caller = calls_profile.time("caller = shown user (1 users FINAL query)",
                                    lambda: user_by_username(traced, f"user{TARGET_USER}"))
        rows = calls_profile.time("calls query (ClickHouse + driver decoding)",
                                  lambda: traced.execute(sql, params))
        calls = calls_profile.time("rows -> Call objects (_call)",
                                   lambda: [_call(r) for r in rows])  # noqa: B023
        assert caller is not None
        page = CallsPage(caller=caller, currency="USD", period_start="", period_end="",
                         shown=Shown(user=str(TARGET_USER)), calls=calls, zone=UTC,
                         users={TARGET_USER: caller})
        document = calls_profile.time("XML rendering (render_calls_page)",
                                      lambda: render_calls_page(page))  # noqa: B023
        size = len(calls_profile.time("encoding to UTF-8",
                                      lambda: document.encode("utf-8")))  # noqa: B023
        count = len(calls)
    whole, whole_cpu = sequential(server, calls_request(plan), 4 * repeat)
    calls_profile.print(f"where one user_calls_get goes ({count} calls, {size:,} bytes; "
                        f"median of {repeat}, the whole request of {4 * repeat}):",
                        whole, whole_cpu)

    if main_page is None:
        return
    main_profile = Profile(traced)
    month, day = periods(datetime.now(UTC), UTC)
    for _ in range(repeat):
        main_profile.time("session check (credentials_by_id)",
                          lambda: credentials_by_id(traced, TARGET_USER))
        main_profile.time("main_stats (1 query)",
                          lambda: main_stats(traced, TARGET_USER, month, day))
        main_profile.time("balance (2 queries)", lambda: balance(traced, TARGET_USER))
    whole, whole_cpu = sequential(server, main_page, 2 * repeat)
    main_profile.print(f"where one /callc/main goes (median of {repeat}, the whole request "
                       f"of {2 * repeat}):", whole, whole_cpu)


# ------------------------------------------------------------------------------ main

def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api")
    parser.add_argument("--cdrs", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--main-concurrency", type=int, default=2,
                        help="clients of the main page (each request scans every CDR)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto",
                        help="uvicorn's HTTP implementation (h11: as before httptools)")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                        help="uvicorn's event loop (asyncio: as before uvloop)")
    parser.add_argument("--port", type=int, default=18480)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database when it holds the wanted numbers")
    parser.add_argument("--only", choices=("calls", "main"), help="one endpoint only")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # the load generator's process
    args = parser.parse_args(argv)
    if args.client:
        client_main(json.loads(args.client))
        return 0
    if args.cdrs < TARGET_CALLS + MONTHS or args.users < 2:
        parser.error("need at least 1,012 CDRs and 2 users")

    settings = bench_settings(args.database)
    now = datetime.now(UTC)
    plan = prepare(settings, Plan(args.cdrs, args.users, months_ending(now, MONTHS),
                                  int(now.timestamp())), args.reuse, args.seed)
    parts = settle(connect(settings.clickhouse), settings.clickhouse.database)
    print(f"{plan.cdrs:,} CDRs, {plan.users:,} users, cdrs in {parts} active parts; "
          f"API: uvicorn ({args.http} HTTP, {args.loop} loop), {args.workers} worker(s); "
          f"{args.warmup:g} s warm-up, "
          f"{args.seconds:g} s measured")

    server = serve(settings, args.workers, args.port, args.http, args.loop)
    runs: list[Run] = []
    main_page: bytes | None = None
    try:
        calls = calls_request(plan)
        status, _, body = asyncio.run(fetch(server.port, calls))
        listed = body.count(b"<call>")
        if status != 200 or listed != TARGET_CALLS:
            raise RuntimeError(f"user_calls_get answered {status} with {listed} calls: "
                               f"{body[:300]!r}")
        if args.only in (None, "calls"):
            runs.append(run_load(f"user_calls_get x{args.concurrency}", server, calls,
                                 args.concurrency, args.warmup, args.seconds))
            runs.append(run_load("user_calls_get x1", server, calls, 1, 1.0,
                                 max(2.0, args.seconds / 4)))
        if args.only in (None, "main"):
            main_page = main_page_request(server.port)
            status, _, body = asyncio.run(fetch(server.port, main_page))
            if status != 200 or b"Main page" not in body:
                raise RuntimeError(f"/callc/main answered {status}: {body[:300]!r}")
            runs.append(run_load(f"/callc/main x{args.main_concurrency}", server, main_page,
                                 args.main_concurrency, args.warmup, args.seconds))
        print()
        print_runs(runs)
        profile(settings, plan, server, main_page)
    finally:
        server.stop()
    headline = runs[0]
    print(f"\n{headline.name}: {headline.rps:.0f} requests/s")
    print(f"bench api: {headline.p99:.1f} ms p99")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
