"""One local service: its status, an idempotent start that waits until it answers, a clean stop.

A `Service` says where a service keeps its files, which ports it listens on, how to
recognise its process and how to ask whether it answers; infra.kafka and infra.clickhouse
describe theirs and say how to prepare the command line. Starts and stops take a lock
per service, so several shells or test sessions can call them at once.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infra import process

INFRA_DIR = Path(__file__).resolve().parent
START_TIMEOUT_S = 120.0

Echo = Callable[[str], None]


class ServiceError(RuntimeError):
    """A service could not be started, stopped or found; the message says why."""


def echo_stderr(message: str) -> None:
    """Default progress printer: one short line on stderr (stdout stays for `status`)."""
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ServiceStatus:
    """What `status` reports for one service.

    state: "running" (started by infra and answering), "external" (answering, but not a
    process infra started, e.g. docker compose), "starting" (our process is alive but does
    not answer yet), "stopped". `started` is True only in the result of a start call
    that launched the process (so a caller knows it owns the service and should stop it).
    """

    name: str
    state: str
    pid: int | None
    endpoint: str
    detail: str = ""
    started: bool = False

    @property
    def running(self) -> bool:
        return self.state in {"running", "external"}

    def line(self) -> str:
        pid = str(self.pid) if self.pid else "-"
        text = f"{self.name:<10} {self.state:<8} pid {pid:<8} {self.endpoint}"
        return f"{text}  {self.detail}" if self.detail else text


@dataclass(frozen=True)
class Service:
    name: str
    root: Path  # <data_dir>/<name>
    host: str
    ports: tuple[tuple[str, int], ...]  # (role, port); the first is the main endpoint
    marker: str  # substring of our process's command line (its rendered config path)
    logs: tuple[Path, ...]
    answers: Callable[[float], bool] = field(compare=False)

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.ports[0][1]}"

    @property
    def pid_file(self) -> Path:
        return self.root / f"{self.name}.pid"

    @property
    def out_file(self) -> Path:
        return self.root / f"{self.name}.out"

    def describe_ports(self) -> str:
        return ", ".join(f"{role} {port}" for role, port in self.ports)

    def answering(self, timeout: float) -> bool:
        """Something listens on the main port and answers the service's own check."""
        return process.port_in_use(self.host, self.ports[0][1]) and self.answers(timeout)


# --------------------------------------------------------------------------- preparing


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render_template(text: str, values: Mapping[str, object]) -> str:
    """Replace every `${name}` in `text`; other `$` signs are left alone.

    Raises KeyError naming the placeholder when `values` lacks one.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"template placeholder ${{{name}}} has no value")
        return str(values[name])

    return _PLACEHOLDER.sub(substitute, text)


def require_tool(service: str, name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceError(f"{service}: `{name}` not found on PATH; {hint}")
    return path


def require_local(svc: Service, env_name: str) -> None:
    if not process.is_local_host(svc.host):
        raise ServiceError(
            f"{svc.name}: {svc.endpoint} is not on this machine; infra only runs local "
            f"services (unset {env_name} to use the local default)"
        )


# --------------------------------------------------------------------------- status, start, stop


def status(svc: Service, probe_timeout: float = 3.0) -> ServiceStatus:
    pid = process.pid_from_file(svc.pid_file, svc.marker)
    if pid is not None:
        if svc.answering(probe_timeout):
            return ServiceStatus(svc.name, "running", pid, svc.endpoint, svc.describe_ports())
        return ServiceStatus(
            svc.name, "starting", pid, svc.endpoint, f"not answering yet; log: {svc.logs[0]}"
        )
    busy = [(role, port) for role, port in svc.ports if process.port_in_use(svc.host, port)]
    if busy:
        owner = process.port_owner(busy[0][1]) or "an unknown process"
        if svc.answering(probe_timeout):
            return ServiceStatus(
                svc.name, "external", None, svc.endpoint, f"served by {owner}, not by infra"
            )
        role, port = busy[0]
        return ServiceStatus(
            svc.name, "stopped", None, svc.endpoint, f"{role} port {port} is taken by {owner}"
        )
    return ServiceStatus(svc.name, "stopped", None, svc.endpoint)


def start(
    svc: Service,
    prepare: Callable[[], list[str]],
    timeout: float,
    echo: Echo,
) -> ServiceStatus:
    """Start `svc` with the command `prepare` returns, unless it runs or answers already."""
    with process.locked(svc.root):
        current = status(svc)
        if current.state == "running":
            echo(f"{svc.name}: already running, pid {current.pid} on {svc.endpoint}")
            return current
        if current.state == "external":
            echo(f"{svc.name}: {svc.endpoint} already answers, {current.detail}; using it")
            return current
        started = time.monotonic()
        launched = False
        if current.state == "starting" and current.pid is not None:
            echo(f"{svc.name}: pid {current.pid} is starting; waiting until it answers")
            pid = current.pid
        else:
            svc.pid_file.unlink(missing_ok=True)
            _check_ports_free(svc)
            argv = prepare()
            started = time.monotonic()
            pid = process.launch(argv, svc.root, svc.out_file, svc.pid_file)
            launched = True
        elapsed = _wait_ready(svc, pid, timeout, started)
        echo(f"{svc.name}: started pid {pid} in {elapsed:.1f} s ({svc.describe_ports()})")
        return ServiceStatus(
            svc.name, "running", pid, svc.endpoint, svc.describe_ports(), started=launched
        )


def stop(svc: Service, timeout: float, echo: Echo) -> ServiceStatus:
    """Stop our process of `svc` (SIGTERM, SIGKILL after `timeout`); leave others alone."""
    with process.locked(svc.root):
        pid = process.pid_from_file(svc.pid_file, svc.marker)
        if pid is None:
            svc.pid_file.unlink(missing_ok=True)
            current = status(svc, probe_timeout=2.0)
            if current.state == "external":
                echo(f"{svc.name}: {svc.endpoint} is {current.detail}; leaving it running")
                return current
            echo(f"{svc.name}: not running")
            return current
        echo(f"{svc.name}: stopping pid {pid}")
        elapsed, killed = process.terminate(pid, timeout)
        svc.pid_file.unlink(missing_ok=True)
        if killed:
            echo(f"{svc.name}: did not stop within {timeout:.0f} s; killed pid {pid}")
        else:
            echo(f"{svc.name}: stopped in {elapsed:.1f} s")
        return ServiceStatus(svc.name, "stopped", None, svc.endpoint)


def _check_ports_free(svc: Service) -> None:
    for role, port in svc.ports:
        if process.port_in_use(svc.host, port):
            owner = process.port_owner(port) or "another process"
            raise ServiceError(
                f"{svc.name}: {role} port {svc.host}:{port} is already in use by {owner}, "
                f"which is not the {svc.name} started by infra. Stop that process, or point "
                f"cdrflow at other ports (docs/services.md, 'When a port is taken')."
            )


def _wait_ready(svc: Service, pid: int, timeout: float, started: float) -> float:
    """Poll until the service answers; returns seconds since `started`."""
    deadline = started + timeout
    delay = 0.1
    while True:
        if svc.answering(5.0):
            return time.monotonic() - started
        if not process.pid_alive(pid):
            code = process.exit_code(pid)
            svc.pid_file.unlink(missing_ok=True)
            how = f"exited with code {code}" if code is not None else "exited"
            raise ServiceError(
                f"{svc.name}: process {pid} {how} during start-up.\n{process.tail(svc.logs)}"
            )
        if time.monotonic() > deadline:
            process.terminate(pid, 15.0)
            svc.pid_file.unlink(missing_ok=True)
            raise ServiceError(
                f"{svc.name}: not answering on {svc.endpoint} after {timeout:.0f} s; "
                f"stopped pid {pid}.\n{process.tail(svc.logs)}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
