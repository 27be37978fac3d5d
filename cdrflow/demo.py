"""`cdrflow demo`: the whole pipeline on this machine, with the switch simulator.

Starts the worker, the sink, the webhooks poster and the API as child processes (logs
under var/log/), loads the demo reference data, simulates calls, waits for the first
rated call to be visible through `user_calls_get`, prints a ready-to-paste curl, and
keeps simulating until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from api.hash import mor_hash
from cdrflow.demo_data import CALLERS
from cdrflow.settings import Settings

DEMO_USER = "2"
CHILDREN = ("worker", "sink", "webhooks", "api")  # webhooks: idle while no URL is set


def user_calls_request(settings: Settings) -> tuple[str, dict[str, str]]:
    """URL and form of the demo's `user_calls_get`: the admin asks for user 2's calls."""
    url = f"http://{settings.api_host}:{settings.api_port}/billing/api/user_calls_get"
    return url, {"u": "admin", "s_user": DEMO_USER,
                 "hash": mor_hash([DEMO_USER], settings.api_secret)}


def curl_command(settings: Settings) -> str:
    url, form = user_calls_request(settings)
    fields = " ".join(f"-d {name}={shlex.quote(value)}" for name, value in form.items())
    return f"curl -s -X POST {shlex.quote(url)} {fields}"


def run_demo(settings: Settings, rate: float, count: int | None) -> int:
    began = time.monotonic()
    log_dir = settings.data_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    _cdrflow("setup")
    _cdrflow("load-demo")
    children = {name: _spawn(name, log_dir) for name in CHILDREN}
    # Ctrl-C raises KeyboardInterrupt; a `kill` or a closed terminal must stop the
    # children too (they run in sessions of their own, so no signal reaches them)
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _interrupt)
    try:
        return asyncio.run(_simulate_and_report(settings, rate, count, began, children))
    except KeyboardInterrupt:
        return 0
    finally:
        print("demo: stopping worker, sink, webhooks and API (Kafka and ClickHouse keep "
              "running; `make services-stop` stops them)", file=sys.stderr)
        for child in children.values():
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


async def _simulate_and_report(settings: Settings, rate: float, count: int | None,
                               began: float, children: dict[str, subprocess.Popen[bytes]]) -> int:
    from streams.simulator import simulate

    simulator = asyncio.create_task(simulate(settings, CALLERS, count, rate, seed=int(time.time())))
    try:
        while not await asyncio.to_thread(_calls_visible, settings):
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"demo: {name} exited with {child.returncode}; "
                          f"see {settings.data_dir / 'log' / (name + '.log')}", file=sys.stderr)
                    return 1
            await asyncio.sleep(0.5)
        elapsed = time.monotonic() - began
        print(f"\ndemo: first rated call visible in the API {elapsed:.1f} s after start.\n"
              f"Ask for user {DEMO_USER}'s calls of today (MOR user_calls_get):\n\n"
              f"  {curl_command(settings)}\n\n"
              f"Logs: {settings.data_dir / 'log'}/{{worker,sink,webhooks,api}}.log. "
              "Ctrl-C stops the demo.", flush=True)
        await simulator
        while all(child.poll() is None for child in children.values()):
            await asyncio.sleep(1)
        return 1
    finally:
        simulator.cancel()


def _calls_visible(settings: Settings) -> bool:
    url, form = user_calls_request(settings)
    body = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(url, data=body, timeout=2) as answer:  # noqa: S310 - http:// from settings
            text = answer.read().decode()
    except OSError:
        return False
    return "<total_calls>0</total_calls>" not in text and "<call>" in text


def _cdrflow(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "cdrflow.cli", *args], check=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _spawn(name: str, log_dir: Path) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "cdrflow.cli", name],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
