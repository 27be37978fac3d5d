"""Helpers for tests over the real services: child processes, waiting, reading topics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from starlette.testclient import TestClient

from cdrflow.demo_data import DEMO_PASSWORDS
from cdrflow.settings import Settings
from streams.topics import read_all


class Processes:
    """cdrflow commands running as child processes, with their logs kept for failures."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, command: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{command}.log").open("ab")
        env = {**os.environ, **self.settings.to_env()}
        child = subprocess.Popen([sys.executable, "-m", "cdrflow.cli", command], env=env,
                                 stdout=log, stderr=subprocess.STDOUT)
        self.running[command] = child
        return child

    def kill(self, command: str) -> None:
        """SIGKILL: no shutdown, no flush, no commit (a crash or a power cut)."""
        child = self.running.pop(command)
        child.kill()
        child.wait()

    def check_alive(self) -> None:
        for command, child in self.running.items():
            if child.poll() is not None:
                raise AssertionError(f"{command} exited with {child.returncode}:\n"
                                     + self.log(command)[-3000:])

    def log(self, command: str) -> str:
        return (self.log_dir / f"{command}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for child in self.running.values():
            child.terminate()
        for child in self.running.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()



def log_in(client: TestClient, username: str = "john") -> None:
    """Log a demo user in on `client` (its cookie then opens the pages); fails the test
    unless MOR's success answer comes back."""
    answer = client.post("/billing/api/login",
                         data={"u": username, "p": DEMO_PASSWORDS[username]}).text
    assert answer.count("<status>ok</status>") == 1 and "Succesfully logged in" in answer, answer


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             processes: Processes | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if processes:
            processes.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


async def read_topic(settings: Settings, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    """Every record of a topic, from the beginning to its current end."""
    return [(record.key, record.value) for record in await read_all(settings, topic)]

