"""Kafka 3.9.1 in KRaft combined mode (broker + controller), single node, as a JVM process.

The jars are fetched once with Maven from infra/kafka/pom.xml into
<cache_dir>/kafka-3.9.1/lib, the storage is formatted on the first start, and `kafka.Kafka`
runs with the rendered infra/kafka/server.properties. Broker port from
settings.kafka_bootstrap, controller port = broker port + 1. The broker is ready when a
metadata request succeeds (aiokafka, imported only for that check).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from cdrflow.settings import Settings
from infra import lifecycle, process
from infra.lifecycle import (
    INFRA_DIR,
    START_TIMEOUT_S,
    Echo,
    ServiceError,
    ServiceStatus,
    echo_stderr,
    render_template,
)

KAFKA_VERSION = "3.9.1"
KAFKA_MAIN_JAR = f"kafka_2.13-{KAFKA_VERSION}.jar"
KAFKA_STOP_TIMEOUT_S = 60.0

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


# --------------------------------------------------------------------------- configuration


def kafka_address(settings: Settings) -> tuple[str, int]:
    """Broker (host, port) from settings.kafka_bootstrap."""
    return process.split_host_port(settings.kafka_bootstrap, 9092)


def kafka_controller_port(settings: Settings) -> int:
    return kafka_address(settings)[1] + 1


def kafka_lib_dir(settings: Settings) -> Path:
    return settings.cache_dir / f"kafka-{KAFKA_VERSION}" / "lib"


def kafka_server_properties(settings: Settings) -> str:
    host, port = kafka_address(settings)
    template = (INFRA_DIR / "kafka" / "server.properties").read_text()
    return render_template(
        template,
        {
            "host": process.bind_host(host),
            "advertised_host": host,
            "broker_port": port,
            "controller_port": port + 1,
            "log_dirs": settings.data_dir / "kafka" / "data",
        },
    )


def kafka_log4j_properties(settings: Settings) -> str:
    template = (INFRA_DIR / "kafka" / "log4j.properties").read_text()
    return render_template(template, {"log_file": settings.data_dir / "kafka" / "server.log"})


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, base64url without padding (22 characters).

    Like Kafka's Uuid.randomUuid, never starts with '-' (a CLI would read it as an option).
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


# --------------------------------------------------------------------------- readiness

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
    host, port = process.split_host_port(bootstrap, 9092)
    if not process.port_in_use(host, port, min(timeout, 1.0)):
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


# --------------------------------------------------------------------------- preparing


def ensure_kafka_jars(settings: Settings, echo: Echo = echo_stderr) -> Path:
    """The broker's lib dir, fetched with Maven unless already complete for this pom."""
    lib = kafka_lib_dir(settings)
    pom = INFRA_DIR / "kafka" / "pom.xml"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    marker = lib / ".cdrflow-complete"
    with contextlib.suppress(OSError):
        if marker.read_text().strip() == digest and (lib / KAFKA_MAIN_JAR).is_file():
            return lib
    mvn = lifecycle.require_tool(
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
    goal = ["dependency:copy-dependencies", f"-DoutputDirectory={partial}"]
    code, output = process.run([mvn, "-q", "-B", "-f", str(pom), *goal])
    if code != 0 or not (partial / KAFKA_MAIN_JAR).is_file():
        last = "\n".join(output.splitlines()[-30:])
        raise ServiceError(
            f"kafka: `mvn dependency:copy-dependencies` failed (exit {code}); "
            f"is Maven Central reachable?\n{last}"
        )
    shutil.rmtree(lib, ignore_errors=True)
    partial.rename(lib)
    marker.write_text(digest + "\n")
    jars = len(list(lib.glob("*.jar")))
    echo(f"kafka: fetched {jars} jars into {lib} in {time.monotonic() - started:.1f} s")
    return lib


def _command(settings: Settings, echo: Echo) -> list[str]:
    """Render the configs, format the storage on the first start; the broker's command."""
    java = lifecycle.require_tool(
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
        _format_storage(root, [java, *KAFKA_TOOL_JVM_FLAGS, *common, *classpath], props, echo)
    return [java, *KAFKA_JVM_FLAGS, *common, *classpath, "kafka.Kafka", str(props)]


def _format_storage(root: Path, java: list[str], props: Path, echo: Echo) -> None:
    """Run StorageTool (`java`: the JVM command line) with the cluster id kept in `root`."""
    id_file = root / "cluster.id"
    if not id_file.exists():
        id_file.write_text(new_cluster_id() + "\n")
    cluster_id = id_file.read_text().strip()
    echo("kafka: formatting storage")
    options = ["-t", cluster_id, "-c", str(props), "--ignore-formatted"]
    code, output = process.run([*java, "kafka.tools.StorageTool", "format", *options])
    if code != 0:
        raise ServiceError(f"kafka: formatting storage failed (exit {code}):\n{output}")


# --------------------------------------------------------------------------- start, stop, status


def _service(settings: Settings) -> lifecycle.Service:
    host, port = kafka_address(settings)
    root = settings.data_dir / "kafka"
    bootstrap = f"{host}:{port}"
    return lifecycle.Service(
        name="kafka",
        root=root,
        host=host,
        ports=(("broker", port), ("controller", port + 1)),
        marker=str(root / "server.properties"),
        logs=(root / "server.log", root / "kafka.out"),
        answers=lambda timeout: kafka_answers(bootstrap, timeout),
    )


def start_kafka(
    settings: Settings | None = None,
    *,
    timeout: float = START_TIMEOUT_S,
    echo: Echo = echo_stderr,
) -> ServiceStatus:
    """Start the local broker unless it already runs; returns once it answers metadata."""
    settings = settings or Settings.from_env()
    svc = _service(settings)
    lifecycle.require_local(svc, "KAFKA_BOOTSTRAP")
    return lifecycle.start(svc, lambda: _command(settings, echo), timeout, echo)


def stop_kafka(
    settings: Settings | None = None,
    *,
    timeout: float = KAFKA_STOP_TIMEOUT_S,
    echo: Echo = echo_stderr,
) -> ServiceStatus:
    return lifecycle.stop(_service(settings or Settings.from_env()), timeout, echo)


def kafka_status(settings: Settings | None = None) -> ServiceStatus:
    return lifecycle.status(_service(settings or Settings.from_env()))
