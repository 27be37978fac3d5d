"""`cdrflow demo` over the real Kafka and ClickHouse: it reports the first rated call
visible through the API, and a SIGTERM (a `kill`, or SIGHUP: a closed terminal) stops
the worker, sink, webhooks and API it started, not only itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cdrflow.settings import Settings
from tests.integration.support import wait_for

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_the_demo_reports_a_rated_call_and_stops_its_children(
        settings: Settings, stop: signal.Signals) -> None:
    env = {**os.environ, **settings.with_(api_port=free_port()).to_env()}
    log = settings.data_dir / f"demo-{stop.name}.log"
    with log.open("wb") as out:
        demo = subprocess.Popen([sys.executable, "-m", "cdrflow.cli", "demo", "--rate", "5"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: b"first rated call visible in the API" in log.read_bytes()
                 or demo.poll() is not None, 120, "the demo's first rated call")
        assert demo.poll() is None, log.read_text(errors="replace")
        children = children_of(demo.pid)
        assert len(children) == 4  # worker, sink, webhooks, API
        demo.send_signal(stop)
        assert demo.wait(timeout=60) == 0
        assert [pid for pid in children if alive(pid)] == []
        assert "demo: stopping worker, sink, webhooks and API" in log.read_text()
    finally:
        if demo.poll() is None:
            demo.kill()
