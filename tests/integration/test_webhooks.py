"""MOR's "Call End" webhook over the real Kafka and ClickHouse, to a local HTTP receiver
that fails for a while (HTTP 500, then not listening) while `cdrflow webhooks` is also
killed and restarted mid-load: no call is missing, none is posted out of its device's
order, and a call is only posted again as part of replaying a tail after the restart."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest

from cdrflow.settings import Settings
from projections.clickhouse import connect
from projections.webhooks import call_end_url
from rating.cdr import Cdr
from streams.account_events import account_event, encoded
from streams.call_end import call_params
from streams.publisher import publish
from streams.topics import ACCOUNT_EVENTS, CALL_END_WEBHOOKS, CDRS, read_all
from tests.integration.support import Processes, wait_for

pytestmark = pytest.mark.integration

DEVICES = {10: 2, 11: 3, 12: 2, 13: 3}  # device -> user; 12 has no URL at all
PATHS = {10: "/d10", 11: "/u3", 13: "/d13"}  # 11 gets its user's URL, 13 its own
BATCH = 1_000
T0 = 1_795_168_800_000


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST's path and query, or answers
    500 while `failing`; `stop` closes its port and `start` opens the same one again."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]]]] = []
        self.refused = 0
        self.failing = False
        self.port = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                with receiver.lock:
                    if receiver.failing or body:
                        receiver.refused += 1
                        self.send_response(500)
                    else:
                        receiver.calls.append(
                            (url.path, parse_qsl(url.query, keep_blank_values=True)))
                        self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    def call_ids(self) -> list[str]:
        with self.lock:
            return [dict(params)["call_id"] for _, params in self.calls]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


def cdr(n: int, version: int = 1) -> Cdr:
    device_id = list(DEVICES)[n % len(DEVICES)]
    start = T0 + n * 1000
    return Cdr(f"w-{n}", version, start, start + 2000, start + 32_000, DEVICES[device_id],
               device_id, 1, f"{start / 1000:.6f}", f"SIP/{device_id}-{n}",
               f"+3705200{device_id}", "37061234567", f'"Desk {device_id}" & <+{device_id}>',
               "ANSWERED", 16, 32, 30, 30, "3706", "Lithuania MOB", 1, 1, "USD",
               Decimal("0.25"), Decimal("9.99") if version > 1 else Decimal("0.125"))


def write_cdrs(settings: Settings, cdrs: list[Cdr]) -> None:
    asyncio.run(publish(settings, CDRS, [(c.call_id.encode(), orjson.dumps(c.to_dict()))
                                         for c in cdrs]))


def set_url(settings: Settings, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "cdrflow.cli", "webhook", "set", *args],
                   env={**os.environ, **settings.to_env()}, check=True, capture_output=True)


def replayed_in_order(received: list[str], routed: list[str]) -> int:
    """Check that `received` walks `routed` (first occurrences) in order, never skipping
    ahead, where a step back only starts a replay; returns the number of replays."""
    order = {call_id: index for index, call_id in enumerate(dict.fromkeys(routed))}
    seen, previous, replays = -1, -1, 0
    for call_id in received:
        index = order[call_id]
        assert index <= seen + 1, f"{call_id} posted before {list(order)[seen + 1]}"
        if index != previous + 1:
            replays += 1
        seen, previous = max(seen, index), index
    assert seen == len(order) - 1
    return replays


def test_every_call_is_posted_in_its_devices_order_through_failures_and_a_restart(
        settings: Settings, reference_data: None, receiver: Receiver) -> None:
    began = time.monotonic()
    hook_settings = settings.with_(webhook_max_backoff=1.0, webhook_timeout=2.0)
    processes = Processes(hook_settings, settings.data_dir)
    try:
        base = f"http://127.0.0.1:{receiver.port}"
        asyncio.run(publish(settings, ACCOUNT_EVENTS, [
            encoded(2, account_event("device_created", device_id=12, user_id=2,
                                     device_type="SIP", name="john-fax", extension="202")),
            encoded(3, account_event("device_created", device_id=13, user_id=3,
                                     device_type="SIP", name="ann-cell", extension="302")),
        ]))
        set_url(settings, "--user", "2", "--device", "10", "--url", base + "/d10?k=1")
        set_url(settings, "--user", "3", "--url", base + "/u3")
        asyncio.run(publish(settings, ACCOUNT_EVENTS, [encoded(3, account_event(
            "call_end_webhook_set", user_id=3, device_id=13, url=base + "/d13",
            set_ms=time.time_ns() // 1_000_000))]))
        processes.start("sink")
        processes.start("webhooks")

        expected = {f"w-{n}" for n in range(3 * BATCH) if cdr(n).device_id in PATHS}
        write_cdrs(settings, [cdr(n) for n in range(BATCH)])
        wait_for(lambda: len(receiver.call_ids()) >= 200, 60, "the first calls posted",
                 processes)
        processes.kill("webhooks")  # mid-delivery: what it posted since its commit comes again
        write_cdrs(settings, [cdr(n) for n in range(BATCH, 2 * BATCH)] + [cdr(5, version=2)])
        processes.start("webhooks")
        wait_for(lambda: len(set(receiver.call_ids()) & expected) >= 1.2 * BATCH * 3 / 4, 60,
                 "calls of the second batch posted", processes)
        receiver.failing = True
        time.sleep(2)
        receiver.stop()  # connections refused now
        write_cdrs(settings, [cdr(n) for n in range(2 * BATCH, 3 * BATCH)])
        time.sleep(2)
        receiver.failing = False
        receiver.start()
        wait_for(lambda: set(receiver.call_ids()) >= expected, 60, "every call posted",
                 processes)
        time.sleep(1.5)  # anything posted twice or wrongly would show now

        received = receiver.call_ids()
        assert set(received) == expected
        assert receiver.refused > 0
        log = processes.log("webhooks")
        assert "failed (HTTP 500)" in log and "ClientConnectorError" in log
        # every POST carries its call's data, to its device's (or user's) URL
        calls = {f"w-{n}": cdr(n) for n in range(3 * BATCH)}
        for path, params in receiver.calls:
            call = calls[dict(params)["call_id"]]
            assert path == PATHS[call.device_id]
            assert params == ([("k", "1")] if call.device_id == 10 else []) + call_params(call)
        # per device: the order of the routed topic, tails replayed only after failures
        routed: dict[int, list[str]] = defaultdict(list)
        for record in asyncio.run(read_all(settings, CALL_END_WEBHOOKS)):
            routed[int(record.key or b"0")].append(orjson.loads(record.value or b"")["call_id"])
        assert set(routed) == set(PATHS)
        posted: dict[int, list[str]] = defaultdict(list)
        for call_id in received:
            posted[calls[call_id].device_id].append(call_id)
        replays = {device: replayed_in_order(posted[device], routed[device])
                   for device in PATHS}
        assert sum(replays.values()) <= 2 * len(PATHS), replays
        # and the routed order keeps each cdrs partition's order of the device's calls
        by_partition: dict[tuple[int, int], list[str]] = defaultdict(list)
        for record in asyncio.run(read_all(settings, CDRS)):
            call_id = (record.key or b"").decode()
            if call_id in expected:
                key = (record.partition, calls[call_id].device_id)
                if call_id not in by_partition[key]:  # w-5 has a re-rated version too
                    by_partition[key].append(call_id)
        for (partition, device), call_ids in by_partition.items():
            firsts = [c for c in dict.fromkeys(routed[device]) if c in set(call_ids)]
            assert firsts == call_ids, (partition, device)
        # the settings are projected: MOR's webhook_url_for_call_end of each device
        client = connect(settings.clickhouse)
        assert [call_end_url(client, DEVICES[d], d) for d in (10, 11, 12, 13)] == [
            base + "/d10?k=1", base + "/u3", "", base + "/d13"]
        assert time.monotonic() - began < 90
    finally:
        processes.stop_all()
