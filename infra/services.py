"""Local Kafka (KRaft, single node) and ClickHouse as plain processes: no Docker, no root services.

Used by the Makefile, the `cdrflow` CLI, `python -m infra` and the test fixtures
(tests/conftest.py). Stdlib only at import time; aiokafka is imported lazily for the Kafka
readiness check.

- Kafka 3.9.1: jars fetched once with Maven from infra/kafka/pom.xml into
  <cache_dir>/kafka-3.9.1/lib, storage formatted on first start, `kafka.Kafka` started
  with the rendered infra/kafka/server.properties. Broker port from settings.kafka_bootstrap,
  controller port = broker port + 1.
- ClickHouse: the `clickhouse-server` binary (Debian 18.16 here; installed with apt-get when
  missing) started with the rendered infra/clickhouse/config.xml. Native port from
  settings.clickhouse, HTTP port = native port - 877 (19000 -> 18123, like 9000 -> 8123).

Everything a service writes lives under <data_dir>/<service>/ (pid file, rendered configs,
logs, data); data survives a stop. Starts are idempotent and wait until the service really
answers (Kafka: a metadata request; ClickHouse: `SELECT 1` over HTTP). Stops are clean
(SIGTERM, then SIGKILL after a timeout).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cdrflow.settings import Settings

INFRA_DIR = Path(__file__).resolve().parent

KAFKA_VERSION = "3.9.1"
KAFKA_MAIN_JAR = f"kafka_2.13-{KAFKA_VERSION}.jar"
#: ClickHouse HTTP port = native port + this offset (9000 -> 8123, 19000 -> 18123).
CLICKHOUSE_HTTP_PORT_OFFSET = 8123 - 9000
#: The HTTP port for the default native port 19000.
CLICKHOUSE_HTTP_PORT = 19000 + CLICKHOUSE_HTTP_PORT_OFFSET

START_TIMEOUT_S = 120.0
KAFKA_STOP_TIMEOUT_S = 60.0
CLICKHOUSE_STOP_TIMEOUT_S = 30.0

#: JVM flags for the broker on a 2-core machine (heap 512 MiB-1 GiB, G1, 2 CPUs).
KAFKA_JVM_FLAGS: tuple[str, ...] = (
    "-Xms512m",
    "-Xmx1g",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:ActiveProcessorCount=2",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
#: Flags for the one-shot StorageTool run (quick start-up, small heap).
KAFKA_TOOL_JVM_FLAGS: tuple[str, ...] = (
    "-Xmx256m",
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-Djava.awt.headless=true",
)

CLICKHOUSE_APT_PACKAGES: tuple[str, ...] = ("clickhouse-server", "clickhouse-client")

Echo = Callable[[str], None]


class ServiceError(RuntimeError):
    """A service could not be started, stopped or found; the message says why."""


def echo_stderr(message: str) -> None:
    """Default progress printer: one short line on stderr (stdout stays for `status`)."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- pure helpers


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


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """`host:port` (first entry of a comma-separated list; `[v6]:port` allowed)."""
    first = address.split(",")[0].strip()
    if not first:
        raise ValueError(f"empty address: {address!r}")
    if first.startswith("["):
        host, _, rest = first[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port else default_port
    if first.count(":") == 1:
        host, port = first.split(":")
        return host or "127.0.0.1", int(port)
    return first, default_port


def is_local_host(host: str) -> bool:
    return host in {"localhost", "::1"} or host.startswith("127.")


def bind_host(host: str) -> str:
    """The address to listen on for an advertised host (`localhost` -> 127.0.0.1)."""
    return "127.0.0.1" if host == "localhost" else host


def kafka_address(settings: Settings) -> tuple[str, int]:
    """Broker (host, port) from settings.kafka_bootstrap."""
    return split_host_port(settings.kafka_bootstrap, 9092)


def kafka_controller_port(settings: Settings) -> int:
    return kafka_address(settings)[1] + 1


def clickhouse_http_port(settings: Settings) -> int:
    port = settings.clickhouse.port + CLICKHOUSE_HTTP_PORT_OFFSET
    if port <= 0:
        raise ValueError(f"ClickHouse native port {settings.clickhouse.port} is too low")
    return port


def kafka_lib_dir(settings: Settings) -> Path:
    return settings.cache_dir / f"kafka-{KAFKA_VERSION}" / "lib"


def kafka_server_properties(settings: Settings) -> str:
    host, port = kafka_address(settings)
    template = (INFRA_DIR / "kafka" / "server.properties").read_text()
    return render_template(
        template,
        {
            "host": bind_host(host),
            "advertised_host": host,
            "broker_port": port,
            "controller_port": port + 1,
            "log_dirs": settings.data_dir / "kafka" / "data",
        },
    )


def kafka_log4j_properties(settings: Settings) -> str:
    template = (INFRA_DIR / "kafka" / "log4j.properties").read_text()
    return render_template(template, {"log_file": settings.data_dir / "kafka" / "server.log"})


def clickhouse_config_xml(settings: Settings) -> str:
    template = (INFRA_DIR / "clickhouse" / "config.xml").read_text()
    return render_template(
        template,
        {
            "root": settings.data_dir / "clickhouse",
            "host": bind_host(settings.clickhouse.host),
            "tcp_port": settings.clickhouse.port,
            "http_port": clickhouse_http_port(settings),
        },
    )


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, base64url without padding (22 characters).

    Like Kafka's Uuid.randomUuid, never starts with '-' (a CLI would read it as an option).
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


def port_in_use(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((bind_host(host), port), timeout=timeout):
            return True
    except OSError:
        return False


def tail(paths: Sequence[Path], lines: int = 30) -> str:
    """The last `lines` lines of each existing file, with a header per file."""
    chunks = []
    for path in paths:
        try:
            with path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 64 * 1024))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        last = text.splitlines()[-lines:]
        if last:
            chunks.append(f"--- last lines of {path} ---\n" + "\n".join(last))
    return "\n".join(chunks) if chunks else "(no log output yet)"


# --------------------------------------------------------------------------- processes


# Children started by this Python process, kept so they are reaped (no zombies) and
# Popen does not warn about still-running children when garbage-collected.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _reap(pid: int) -> int | None:
    """Exit code if `pid` is our child and has exited, else None."""
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll()
    with contextlib.suppress(ChildProcessError, OSError):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return os.waitstatus_to_exitcode(status)
    return None


def _cmdline(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def pid_alive(pid: int) -> bool:
    """True when `pid` runs (zombies count as dead and are reaped when ours)."""
    if _reap(pid) is not None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    state = stat.rpartition(")")[2].split()[:1]
    return state != ["Z"]


def port_owner(port: int) -> str | None:
    """Best effort (Linux /proc): 'pid N (command line)' of the process listening on `port`."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    cmd = _cmdline(int(proc.name)) or "?"
                    return f"pid {proc.name} ({cmd[:120]})"
        except OSError:
            continue
    return None


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(pid) == pid:  # started in its own session: signal the whole group
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _terminate(pid: int, timeout: float) -> tuple[float, bool]:
    """SIGTERM, wait up to `timeout`, then SIGKILL. Returns (seconds, killed)."""
    started = time.monotonic()
    try:
        _signal(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0.0, False
    while time.monotonic() - started < timeout:
        if not pid_alive(pid):
            _CHILDREN.pop(pid, None)
            return time.monotonic() - started, False
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    _CHILDREN.pop(pid, None)
    return time.monotonic() - started, True


# --------------------------------------------------------------------------- service model


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
class _Service:
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


def _kafka(settings: Settings) -> _Service:
    host, port = kafka_address(settings)
    root = settings.data_dir / "kafka"
    bootstrap = f"{host}:{port}"
    return _Service(
        name="kafka",
        root=root,
        host=host,
        ports=(("broker", port), ("controller", port + 1)),
        marker=str(root / "server.properties"),
        logs=(root / "server.log", root / "kafka.out"),
        answers=lambda timeout: kafka_answers(bootstrap, timeout),
    )


def _clickhouse(settings: Settings) -> _Service:
    host, port = settings.clickhouse.host, settings.clickhouse.port
    http_port = clickhouse_http_port(settings)
    root = settings.data_dir / "clickhouse"
    return _Service(
        name="clickhouse",
        root=root,
        host=host,
        ports=(("native", port), ("http", http_port)),
        marker=str(root / "etc" / "config.xml"),
        logs=(
            root / "log" / "clickhouse-server.err.log",
            root / "log" / "clickhouse-server.log",
            root / "clickhouse.out",
        ),
        answers=lambda timeout: clickhouse_answers(host, http_port, timeout),
    )


@contextlib.contextmanager
def _locked(svc: _Service) -> Iterator[None]:
    """One start/stop per service at a time (several shells or test sessions)."""
    svc.root.mkdir(parents=True, exist_ok=True)
    with (svc.root / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _our_pid(svc: _Service) -> int | None:
    """The pid from the pid file when that process is alive and is our service."""
    try:
        pid = int(svc.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if not pid_alive(pid):
        return None
    cmd = _cmdline(pid)
    if cmd is not None and svc.marker not in cmd:
        return None  # the pid was reused by something else
    return pid


def _status(svc: _Service, probe_timeout: float = 3.0) -> ServiceStatus:
    pid = _our_pid(svc)
    main_port = svc.ports[0][1]
    if pid is not None:
        if port_in_use(svc.host, main_port) and svc.answers(probe_timeout):
            return ServiceStatus(svc.name, "running", pid, svc.endpoint, svc.describe_ports())
        return ServiceStatus(
            svc.name, "starting", pid, svc.endpoint, f"not answering yet; log: {svc.logs[0]}"
        )
    busy = [(role, port) for role, port in svc.ports if port_in_use(svc.host, port)]
    if busy:
        owner = port_owner(busy[0][1]) or "an unknown process"
        if port_in_use(svc.host, main_port) and svc.answers(probe_timeout):
            return ServiceStatus(
                svc.name, "external", None, svc.endpoint, f"served by {owner}, not by infra"
            )
        role, port = busy[0]
        return ServiceStatus(
            svc.name, "stopped", None, svc.endpoint, f"{role} port {port} is taken by {owner}"
        )
    return ServiceStatus(svc.name, "stopped", None, svc.endpoint)


def _require_local(svc: _Service, env_name: str) -> None:
    if not is_local_host(svc.host):
        raise ServiceError(
            f"{svc.name}: {svc.endpoint} is not on this machine; infra only runs local "
            f"services (unset {env_name} to use the local default)"
        )


def _check_ports_free(svc: _Service) -> None:
    for role, port in svc.ports:
        if port_in_use(svc.host, port):
            owner = port_owner(port) or "another process"
            raise ServiceError(
                f"{svc.name}: {role} port {svc.host}:{port} is already in use by {owner}, "
                f"which is not the {svc.name} started by infra. Stop that process, or point "
                f"cdrflow at other ports (docs/services.md, 'When a port is taken')."
            )


def _require_tool(service: str, name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceError(f"{service}: `{name}` not found on PATH; {hint}")
    return path


def _launch(svc: _Service, argv: Sequence[str]) -> int:
    svc.root.mkdir(parents=True, exist_ok=True)
    with svc.out_file.open("ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
        out.flush()
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=svc.root,
            start_new_session=True,  # detached: survives this shell, own process group
            close_fds=True,
        )
    _CHILDREN[child.pid] = child
    svc.pid_file.write_text(f"{child.pid}\n")
    return child.pid


def _wait_ready(svc: _Service, pid: int, timeout: float, started: float) -> float:
    """Poll until the service answers; returns seconds since `started`."""
    deadline = started + timeout
    delay = 0.1
    while True:
        if port_in_use(svc.host, svc.ports[0][1]) and svc.answers(5.0):
            return time.monotonic() - started
        if not pid_alive(pid):
            code = _reap(pid)
            svc.pid_file.unlink(missing_ok=True)
            how = f"exited with code {code}" if code is not None else "exited"
            raise ServiceError(
                f"{svc.name}: process {pid} {how} during start-up.\n{tail(svc.logs)}"
            )
        if time.monotonic() > deadline:
            _terminate(pid, 15.0)
            svc.pid_file.unlink(missing_ok=True)
            raise ServiceError(
                f"{svc.name}: not answering on {svc.endpoint} after {timeout:.0f} s; "
                f"stopped pid {pid}.\n{tail(svc.logs)}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def _start(
    svc: _Service,
    prepare: Callable[[], list[str]],
    timeout: float,
    echo: Echo,
) -> ServiceStatus:
    with _locked(svc):
        current = _status(svc)
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
            pid = _launch(svc, argv)
            launched = True
        elapsed = _wait_ready(svc, pid, timeout, started)
        echo(f"{svc.name}: started pid {pid} in {elapsed:.1f} s ({svc.describe_ports()})")
        return ServiceStatus(
            svc.name, "running", pid, svc.endpoint, svc.describe_ports(), started=launched
        )


def _stop(svc: _Service, timeout: float, echo: Echo) -> ServiceStatus:
    with _locked(svc):
        pid = _our_pid(svc)
        if pid is None:
            svc.pid_file.unlink(missing_ok=True)
            current = _status(svc, probe_timeout=2.0)
            if current.state == "external":
                echo(f"{svc.name}: {svc.endpoint} is {current.detail}; leaving it running")
                return current
            echo(f"{svc.name}: not running")
            return current
        echo(f"{svc.name}: stopping pid {pid}")
        elapsed, killed = _terminate(pid, timeout)
        svc.pid_file.unlink(missing_ok=True)
        if killed:
            echo(f"{svc.name}: did not stop within {timeout:.0f} s; killed pid {pid}")
        else:
            echo(f"{svc.name}: stopped in {elapsed:.1f} s")
        return ServiceStatus(svc.name, "stopped", None, svc.endpoint)


# --------------------------------------------------------------------------- readiness probes

T = TypeVar("T")


def _run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def runner() -> None:
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=runner, name="infra-probe", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result


async def kafka_metadata(bootstrap: str, timeout: float = 5.0) -> dict[str, Any]:
    """`describe_cluster` through AIOKafkaAdminClient (a real metadata round trip)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=max(1000, int(timeout * 1000)),
        client_id="cdrflow-infra-probe",
    )
    try:
        await asyncio.wait_for(admin.start(), timeout)
        return await asyncio.wait_for(admin.describe_cluster(), timeout)
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def kafka_answers(bootstrap: str, timeout: float = 5.0) -> bool:
    """True when a broker at `bootstrap` answers a metadata request within `timeout`."""
    host, port = split_host_port(bootstrap, 9092)
    if not port_in_use(host, port, min(timeout, 1.0)):
        return False
    quiet = logging.getLogger("aiokafka")  # connection errors while starting are expected
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        meta = _run_async(kafka_metadata(bootstrap, timeout))
    except Exception:
        return False
    finally:
        quiet.setLevel(level)
    return bool(meta.get("brokers"))


def clickhouse_answers(host: str, http_port: int, timeout: float = 2.0) -> bool:
    """True when `SELECT 1` over ClickHouse's HTTP interface returns 1."""
    url = f"http://{host}:{http_port}/?query=SELECT%201"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore *_proxy
    try:
        with opener.open(url, timeout=timeout) as response:
            body: bytes = response.read()
    except (OSError, urllib.error.URLError, ValueError):
        return False
    return body.strip() == b"1"


# --------------------------------------------------------------------------- Kafka


def ensure_kafka_jars(settings: Settings, echo: Echo = echo_stderr) -> Path:
    """The broker's lib dir, fetched with Maven unless already complete for this pom."""
    lib = kafka_lib_dir(settings)
    pom = INFRA_DIR / "kafka" / "pom.xml"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    marker = lib / ".cdrflow-complete"
    with contextlib.suppress(OSError):
        if marker.read_text().strip() == digest and (lib / KAFKA_MAIN_JAR).is_file():
            return lib
    mvn = _require_tool(
        "kafka",
        "mvn",
        "Maven fetches the Kafka broker jars on first start "
        "(Debian: apt-get install -y maven; or use infra/docker-compose.yml)",
    )
    echo("kafka: fetching broker jars with mvn (first run only)...")
    started = time.monotonic()
    partial = lib.with_name("lib.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0 or not (partial / KAFKA_MAIN_JAR).is_file():
        output = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
        last = "\n".join(output.splitlines()[-30:])
        raise ServiceError(
            f"kafka: `mvn dependency:copy-dependencies` failed (exit {result.returncode}); "
            f"is Maven Central reachable?\n{last}"
        )
    shutil.rmtree(lib, ignore_errors=True)
    partial.rename(lib)
    marker.write_text(digest + "\n")
    jars = len(list(lib.glob("*.jar")))
    echo(f"kafka: fetched {jars} jars into {lib} in {time.monotonic() - started:.1f} s")
    return lib


def _prepare_kafka(settings: Settings, echo: Echo) -> list[str]:
    java = _require_tool(
        "kafka",
        "java",
        "the Kafka broker needs a Java runtime, 17 recommended "
        "(Debian: apt-get install -y openjdk-17-jre-headless)",
    )
    lib = ensure_kafka_jars(settings, echo)
    root = settings.data_dir / "kafka"
    tmp = root / "tmp"
    for path in (root / "data", tmp):
        path.mkdir(parents=True, exist_ok=True)
    props = root / "server.properties"
    log4j = root / "log4j.properties"
    props.write_text(kafka_server_properties(settings))
    log4j.write_text(kafka_log4j_properties(settings))
    common = [f"-Djava.io.tmpdir={tmp}", f"-Dlog4j.configuration=file:{log4j}"]
    classpath = ["-cp", f"{lib}/*"]

    if not (root / "data" / "meta.properties").exists():
        id_file = root / "cluster.id"
        if not id_file.exists():
            id_file.write_text(new_cluster_id() + "\n")
        cluster_id = id_file.read_text().strip()
        echo("kafka: formatting storage")
        result = subprocess.run(
            [
                java,
                *KAFKA_TOOL_JVM_FLAGS,
                *common,
                *classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(props),
                "--ignore-formatted",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
            raise ServiceError(
                f"kafka: formatting storage failed (exit {result.returncode}):\n{output}"
            )
    return [java, *KAFKA_JVM_FLAGS, *common, *classpath, "kafka.Kafka", str(props)]


def start_kafka(
    settings: Settings | None = None,
    *,
    timeout: float = START_TIMEOUT_S,
    echo: Echo = echo_stderr,
) -> ServiceStatus:
    """Start the local broker unless it already runs; returns once it answers metadata."""
    settings = settings or Settings.from_env()
    svc = _kafka(settings)
    _require_local(svc, "KAFKA_BOOTSTRAP")
    return _start(svc, lambda: _prepare_kafka(settings, echo), timeout, echo)


def stop_kafka(
    settings: Settings | None = None,
    *,
    timeout: float = KAFKA_STOP_TIMEOUT_S,
    echo: Echo = echo_stderr,
) -> ServiceStatus:
    settings = settings or Settings.from_env()
    return _stop(_kafka(settings), timeout, echo)


def kafka_status(settings: Settings | None = None) -> ServiceStatus:
    settings = settings or Settings.from_env()
    return _status(_kafka(settings))


# --------------------------------------------------------------------------- ClickHouse


def clickhouse_server_command() -> list[str] | None:
    """How to run the server here: `clickhouse-server` (Debian) or `clickhouse server`."""
    for name, extra in (("clickhouse-server", []), ("clickhouse", ["server"])):
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/usr/local/bin")
        if found:
            return [found, *extra]
    return None


def install_clickhouse(echo: Echo = echo_stderr) -> list[str]:
    """apt-get install the server (root only); returns the command to run it."""
    apt = shutil.which("apt-get")
    if apt is None:
        raise ServiceError(
            "clickhouse: `clickhouse-server` is not installed and there is no apt-get; "
            "install ClickHouse (https://clickhouse.com/docs/install) or use "
            "infra/docker-compose.yml"
        )
    packages = " ".join(CLICKHOUSE_APT_PACKAGES)
    if os.geteuid() != 0:
        raise ServiceError(
            "clickhouse: `clickhouse-server` is not installed; install it with: "
            f"sudo apt-get update && sudo apt-get install -y {packages}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    echo("clickhouse: clickhouse-server is not installed; installing it with apt-get")
    for argv in ([apt, "update"], [apt, "install", "-y", *CLICKHOUSE_APT_PACKAGES]):
        echo(f"clickhouse: running {' '.join(argv)}")
        result = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
            last = "\n".join(output.splitlines()[-20:])
            raise ServiceError(
                f"clickhouse: `{' '.join(argv)}` failed (exit {result.returncode}):\n{last}"
            )
    command = clickhouse_server_command()
    if command is None:
        raise ServiceError(
            f"clickhouse: apt-get installed {packages} but no clickhouse-server binary was found"
        )
    return command


def _prepare_clickhouse(settings: Settings, echo: Echo) -> list[str]:
    command = clickhouse_server_command() or install_clickhouse(echo)
    root = settings.data_dir / "clickhouse"
    etc = root / "etc"
    for sub in ("etc", "data", "tmp", "log", "user_files", "format_schemas"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (etc / "config.xml").write_text(clickhouse_config_xml(settings))
    shutil.copyfile(INFRA_DIR / "clickhouse" / "users.xml", etc / "users.xml")
    return [*command, f"--config-file={etc / 'config.xml'}"]


def start_clickhouse(
    settings: Settings | None = None,
    *,
    timeout: float = START_TIMEOUT_S,
    echo: Echo = echo_stderr,
) -> ServiceStatus:
    """Start the local ClickHouse unless it already runs; returns once `SELECT 1` works."""
    settings = settings or Settings.from_env()
    svc = _clickhouse(settings)
    _require_local(svc, "CLICKHOUSE_URL")
    return _start(svc, lambda: _prepare_clickhouse(settings, echo), timeout, echo)


def stop_clickhouse(
    settings: Settings | None = None,
    *,
    timeout: float = CLICKHOUSE_STOP_TIMEOUT_S,
    echo: Echo = echo_stderr,
) -> ServiceStatus:
    settings = settings or Settings.from_env()
    return _stop(_clickhouse(settings), timeout, echo)


def clickhouse_status(settings: Settings | None = None) -> ServiceStatus:
    settings = settings or Settings.from_env()
    return _status(_clickhouse(settings))


# --------------------------------------------------------------------------- both

SERVICES: tuple[str, ...] = ("kafka", "clickhouse")


def start_all(
    settings: Settings | None = None,
    *,
    timeout: float = START_TIMEOUT_S,
    echo: Echo = echo_stderr,
) -> list[ServiceStatus]:
    """Start ClickHouse, then Kafka. Tries both; raises one ServiceError naming all failures."""
    settings = settings or Settings.from_env()
    results: list[ServiceStatus] = []
    errors: list[str] = []
    for start in (start_clickhouse, start_kafka):
        try:
            results.append(start(settings, timeout=timeout, echo=echo))
        except ServiceError as exc:
            errors.append(str(exc))
    if errors:
        raise ServiceError("\n".join(errors))
    return results


def stop_all(settings: Settings | None = None, *, echo: Echo = echo_stderr) -> list[ServiceStatus]:
    settings = settings or Settings.from_env()
    return [stop_kafka(settings, echo=echo), stop_clickhouse(settings, echo=echo)]


def status_all(settings: Settings | None = None) -> list[ServiceStatus]:
    settings = settings or Settings.from_env()
    return [kafka_status(settings), clickhouse_status(settings)]
